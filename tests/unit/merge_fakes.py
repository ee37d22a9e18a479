"""In-memory fakes of the merge workflow's ports (MergeRepository, CustomerLinks), for unit tests."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from customer360.application.ports import MovedLinks
from customer360.domain.errors import ConcurrentModification
from customer360.domain.merge import MergeRecord, PairDecision, RepointedRows
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship
from customer360.domain.survivorship import SurvivorshipPolicy
from customer360.domain.values import ExternalReference

if TYPE_CHECKING:
    from tests.unit.fakes import Store


class FakeMerges:
    def __init__(self, store: Store) -> None:
        self._store = store

    def default_policy(self) -> SurvivorshipPolicy:
        return SurvivorshipPolicy.default()

    async def policy(self) -> SurvivorshipPolicy:
        return self._store.policy or self.default_policy()

    async def save_policy(self, policy: SurvivorshipPolicy, *, actor: str, now: datetime) -> SurvivorshipPolicy:
        stored = self._store.policy.version if self._store.policy else 0
        if policy.version != stored:
            raise ConcurrentModification("The survivorship policy was changed concurrently")
        saved = dataclasses.replace(policy, version=policy.version + 1)
        self._store.policy = saved
        return saved

    async def field_changed_at(self, customer_id: str) -> dict[str, datetime]:
        return dict(self._store.field_changes.get(customer_id, {}))

    async def provenance(self, customer_id: str) -> Provenance | None:
        return self._store.provenance.get(customer_id)

    async def save_provenance(self, provenance: Provenance, now: datetime) -> None:
        self._store.provenance[provenance.customer_id] = provenance

    async def add(self, record: MergeRecord) -> None:
        self._store.merges[record.id] = copy.deepcopy(record)

    async def active_merge(self, target_id: str, source_id: str) -> MergeRecord | None:
        for record in self._store.merges.values():
            if (record.target_id, record.source_id) == (target_id, source_id) and record.active:
                return copy.deepcopy(record)
        return None

    async def merges_into(self, target_id: str) -> list[MergeRecord]:
        found = [r for r in self._store.merges.values() if r.target_id == target_id]
        return [copy.deepcopy(r) for r in sorted(found, key=lambda r: (r.merged_at, r.id))]

    async def close(self, record: MergeRecord) -> None:
        stored = self._store.merges.get(record.id)
        if stored is None or not stored.active:
            raise ConcurrentModification(f"Merge {record.id} was undone concurrently", {"mergeId": record.id})
        self._store.merges[record.id] = copy.deepcopy(record)

    async def decide_pair(self, decision: PairDecision) -> None:
        self._store.pairs[(decision.low_id, decision.high_id)] = decision


class FakeLinks:
    """Re-points the store's consent records, relationships and the source's external references."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def relationships_touching(self, customer_ids: Sequence[str]) -> list[Relationship]:
        touching = [
            r
            for r in self._store.relationships.values()
            if r.from_customer_id in customer_ids or r.to_customer_id in customer_ids
        ]
        return [copy.deepcopy(r) for r in sorted(touching, key=lambda r: r.id)]

    async def retire_relationships(self, relationship_ids: Sequence[str], at: datetime) -> None:
        for relationship_id in relationship_ids:
            relationship = self._store.relationships.get(relationship_id)
            if relationship is not None and relationship.removed_at is None:
                relationship.removed_at = at

    async def restore_relationships(self, relationship_ids: Sequence[str], retired_at: datetime) -> list[str]:
        restored = []
        for relationship_id in relationship_ids:
            relationship = self._store.relationships.get(relationship_id)
            if relationship is not None and relationship.removed_at == retired_at:
                relationship.removed_at = None
                restored.append(relationship_id)
        return sorted(restored)

    async def repoint(self, source_id: str, target_id: str) -> MovedLinks:
        consents = []
        for record in self._store.consents:
            if record.customer_id == source_id:
                record.customer_id = target_id
                consents.append((record.id,))
        ends: dict[str, list[tuple[str, ...]]] = {"from_customer_id": [], "to_customer_id": []}
        for r in self._store.relationships.values():
            if r.from_customer_id == source_id and r.to_customer_id != target_id:
                r.from_customer_id = target_id
                ends["from_customer_id"].append((r.id,))
            if r.to_customer_id == source_id and r.from_customer_id != target_id:
                r.to_customer_id = target_id
                ends["to_customer_id"].append((r.id,))
        refs = self._move_refs(set(self._store.profiles[source_id].attributes.external_refs), source_id, target_id)
        rows = (
            RepointedRows("external_reference", "customer_id", tuple((r.source_system, r.external_id) for r in refs)),
            RepointedRows("consent_record", "customer_id", tuple(consents)),
            *(RepointedRows("customer_relationship", column, tuple(keys)) for column, keys in ends.items()),
        )
        return MovedLinks(rows, frozenset(refs), {})

    async def move_back(self, rows: Sequence[RepointedRows], source_id: str, target_id: str) -> MovedLinks:
        """Only what still points at the target moves back (and is reported)."""
        held = (
            set(self._store.profiles[target_id].attributes.external_refs)
            if target_id in self._store.profiles
            else set()
        )
        moved: list[RepointedRows] = []
        for entry in rows:
            back: list[tuple[str, ...]] = []
            if entry.table == "external_reference":
                back = [key for key in entry.keys if ExternalReference(key[0], key[1]) in held]
            elif entry.table == "consent_record":
                ids = {key[0] for key in entry.keys}
                for record in self._store.consents:
                    if record.id in ids and record.customer_id == target_id:
                        record.customer_id = source_id
                        back.append((record.id,))
            elif entry.table == "customer_relationship":
                ids = {key[0] for key in entry.keys}
                for r in self._store.relationships.values():
                    if r.id in ids and getattr(r, entry.column) == target_id:
                        setattr(r, entry.column, source_id)
                        back.append((r.id,))
            moved.append(RepointedRows(entry.table, entry.column, tuple(sorted(back))))
        refs = {ExternalReference(key[0], key[1]) for e in moved if e.table == "external_reference" for key in e.keys}
        return MovedLinks(tuple(moved), frozenset(refs), {})

    def _move_refs(self, refs: set[ExternalReference], from_id: str, to_id: str) -> tuple[ExternalReference, ...]:
        """The references ``from_id`` holds among ``refs`` now belong to ``to_id`` (rows in the SQL adapter)."""
        holder, receiver = self._store.profiles[from_id], self._store.profiles[to_id]
        moving = tuple(r for r in holder.attributes.external_refs if r in refs)
        kept = tuple(r for r in holder.attributes.external_refs if r not in refs)
        holder.attributes = dataclasses.replace(holder.attributes, external_refs=kept)
        received = (*receiver.attributes.external_refs, *moving)
        receiver.attributes = dataclasses.replace(receiver.attributes, external_refs=received)
        return moving

    async def count(self, customer_id: str) -> dict[str, int]:
        relationships = self._store.relationships.values()
        profile = self._store.profiles.get(customer_id)
        return {
            "external_reference.customer_id": len(profile.attributes.external_refs) if profile else 0,
            "consent_record.customer_id": sum(r.customer_id == customer_id for r in self._store.consents),
            "customer_relationship.from_customer_id": sum(r.from_customer_id == customer_id for r in relationships),
            "customer_relationship.to_customer_id": sum(r.to_customer_id == customer_id for r in relationships),
        }
