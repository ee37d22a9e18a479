"""Provenance of a golden record: for every field, which record gave its value, through which merge, by
which rule; for every list item, every record that contributed it.

One document per customer. It holds fingerprints, not values: a read compares them with the current
values to tell what changed after a merge, and an unmerge uses them to tell what it may take back.
A profile that never absorbed another has no stored provenance: everything is its own (``ORIGINAL``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from customer360.domain.primitives import to_primitive
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.survivorship import BOTH, FIELDS, SOURCE, TARGET, FieldSpec, GoldenRecord

ORIGINAL = "ORIGINAL"
# A value set by an ordinary change after the last merge decision about it.
UPDATED = "UPDATED"


def fingerprint(value: Any) -> str:
    """A short, stable digest of a value (sorted-key JSON of its primitive form)."""
    canonical = json.dumps(to_primitive(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def item_key(spec: FieldSpec, item: Any) -> str:
    assert spec.item_key is not None
    return fingerprint(spec.item_key(item))


@dataclass(frozen=True, slots=True)
class Origin:
    """The record a value came from, and the merge that brought it into this record (None: its own)."""

    customer_id: str
    merge_id: str | None = None


@dataclass(frozen=True, slots=True)
class FieldProvenance:
    origin: Origin
    rule: str
    decided_by: str | None
    fingerprint: str
    fallback: bool = False
    # Set when an ordinary change replaced a value that a merge had brought in: that merge's id.
    replaced_merge: str | None = None


@dataclass(frozen=True, slots=True)
class ItemProvenance:
    key: str
    fingerprint: str
    origins: tuple[Origin, ...]


@dataclass(frozen=True, slots=True)
class ListProvenance:
    rule: str
    decided_by: str | None
    items: tuple[ItemProvenance, ...]

    def by_key(self) -> dict[str, ItemProvenance]:
        return {item.key: item for item in self.items}


@dataclass(frozen=True, slots=True)
class Provenance:
    customer_id: str
    fields: Mapping[str, FieldProvenance]
    lists: Mapping[str, ListProvenance]
    # Contacts that came with a merge (a profile's own contacts are not listed).
    contacts: Mapping[str, Origin] = dataclasses.field(default_factory=dict)

    # -- building --------------------------------------------------------------------------------
    @classmethod
    def native(cls, customer_id: str, attributes: ProfileAttributes) -> Provenance:
        own = Origin(customer_id)
        fields: dict[str, FieldProvenance] = {}
        lists: dict[str, ListProvenance] = {}
        for spec in FIELDS:
            value = getattr(attributes, spec.attribute)
            if spec.multi:
                items = tuple(ItemProvenance(item_key(spec, v), fingerprint(v), (own,)) for v in value)
                lists[spec.name] = ListProvenance(ORIGINAL, None, items)
            else:
                fields[spec.name] = FieldProvenance(own, ORIGINAL, None, fingerprint(value))
        return cls(customer_id, fields, lists)

    def reconciled(self, attributes: ProfileAttributes) -> Provenance:
        """This provenance brought up to date with the current values: what changed since is the record's own."""
        own = Origin(self.customer_id)
        fields = dict(self.fields)
        lists = dict(self.lists)
        for spec in FIELDS:
            value = getattr(attributes, spec.attribute)
            if spec.multi:
                known = self.lists[spec.name].by_key() if spec.name in self.lists else {}
                items = []
                for v in value:
                    key, fp = item_key(spec, v), fingerprint(v)
                    held = known.get(key)
                    items.append(ItemProvenance(key, fp, held.origins if held and held.fingerprint == fp else (own,)))
                listed = self.lists.get(spec.name, ListProvenance(ORIGINAL, None, ()))
                lists[spec.name] = dataclasses.replace(listed, items=tuple(items))
                continue
            fp = fingerprint(value)
            held_field = self.fields.get(spec.name)
            if held_field is None or held_field.fingerprint != fp:
                replaced = held_field.origin.merge_id or held_field.replaced_merge if held_field else None
                fields[spec.name] = FieldProvenance(own, UPDATED, None, fp, replaced_merge=replaced)
        return dataclasses.replace(self, fields=fields, lists=lists)

    def after_merge(
        self, source: Provenance, golden: GoldenRecord, merge_id: str, moved_contacts: Iterable[str]
    ) -> Provenance:
        """The provenance of the golden record (``self`` is the target's, reconciled; so is ``source``)."""
        fields: dict[str, FieldProvenance] = {}
        lists: dict[str, ListProvenance] = {}
        for spec in FIELDS:
            decision = golden.decision(spec.name)
            value = getattr(golden.attributes, spec.attribute)
            if spec.multi:
                lists[spec.name] = ListProvenance(
                    decision.rule, merge_id, _items(spec, value, decision.item_sides, self, source, merge_id)
                )
                continue
            if decision.winner == TARGET:
                held = self.fields[spec.name]
                origin = held.origin
            else:
                origin = Origin(source.fields[spec.name].origin.customer_id, merge_id)
            fields[spec.name] = FieldProvenance(origin, decision.rule, merge_id, fingerprint(value), decision.fallback)
        contacts = dict(self.contacts)
        for contact_id in moved_contacts:
            came_from = source.contacts.get(contact_id, Origin(source.customer_id))
            contacts[contact_id] = Origin(came_from.customer_id, merge_id)
        return Provenance(self.customer_id, fields, lists, contacts)

    # -- storage -----------------------------------------------------------------------------------
    def to_document(self) -> dict[str, Any]:
        return {
            "fields": {k: _field_document(v) for k, v in self.fields.items()},
            "lists": {
                k: {
                    "rule": v.rule,
                    "decidedBy": v.decided_by,
                    "items": [
                        {
                            "key": i.key,
                            "fingerprint": i.fingerprint,
                            "origins": [_origin_document(o) for o in i.origins],
                        }
                        for i in v.items
                    ],
                }
                for k, v in self.lists.items()
            },
            "contacts": {k: _origin_document(v) for k, v in self.contacts.items()},
        }

    @classmethod
    def from_document(cls, customer_id: str, document: Mapping[str, Any]) -> Provenance:
        return cls(
            customer_id,
            {k: _field_from(v) for k, v in document.get("fields", {}).items()},
            {
                k: ListProvenance(
                    v["rule"],
                    v.get("decidedBy"),
                    tuple(
                        ItemProvenance(i["key"], i["fingerprint"], tuple(_origin_from(o) for o in i["origins"]))
                        for i in v["items"]
                    ),
                )
                for k, v in document.get("lists", {}).items()
            },
            {k: _origin_from(v) for k, v in document.get("contacts", {}).items()},
        )


def _items(
    spec: FieldSpec,
    value: tuple[Any, ...],
    sides: tuple[str, ...],
    target: Provenance,
    source: Provenance,
    merge_id: str,
) -> tuple[ItemProvenance, ...]:
    target_items = target.lists[spec.name].by_key()
    source_items = source.lists[spec.name].by_key()
    items = []
    for item, side in zip(value, sides, strict=True):
        key = item_key(spec, item)
        origins: list[Origin] = []
        if side in (TARGET, BOTH):
            held = target_items.get(key)
            origins.extend(held.origins if held else (Origin(target.customer_id),))
        if side in (SOURCE, BOTH):
            held = source_items.get(key)
            for origin in held.origins if held else (Origin(source.customer_id),):
                brought = Origin(origin.customer_id, merge_id)
                if brought not in origins:
                    origins.append(brought)
        items.append(ItemProvenance(key, fingerprint(item), tuple(origins)))
    return tuple(items)


def _origin_document(origin: Origin) -> dict[str, Any]:
    return {"customerId": origin.customer_id, "mergeId": origin.merge_id}


def _origin_from(document: Mapping[str, Any]) -> Origin:
    return Origin(document["customerId"], document.get("mergeId"))


def _field_document(entry: FieldProvenance) -> dict[str, Any]:
    return {
        "origin": _origin_document(entry.origin),
        "rule": entry.rule,
        "decidedBy": entry.decided_by,
        "fingerprint": entry.fingerprint,
        "fallback": entry.fallback,
        "replacedMerge": entry.replaced_merge,
    }


def _field_from(document: Mapping[str, Any]) -> FieldProvenance:
    return FieldProvenance(
        _origin_from(document["origin"]),
        document["rule"],
        document.get("decidedBy"),
        document["fingerprint"],
        bool(document.get("fallback")),
        document.get("replacedMerge"),
    )
