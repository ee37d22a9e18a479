"""In-memory fakes of the privacy ports (``uow.privacy``, ``uow.consent_rules``) for handler unit tests."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from customer360.application.privacy_ports import Confirmation, StoredPolicy
from customer360.domain.consent import ConsentRecord
from customer360.domain.consent_policy import PurposePolicy, default_policy
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import CustomerNotFound, VersionMismatch
from customer360.domain.events import DomainEvent
from customer360.domain.privacy import ContactPointValue, ErasureRequest, LegalHold, LegalHoldNotFound


@dataclass
class PrivacyState:
    """What committed privacy writes leave behind (and what a test arranges beforehand)."""

    # Unused: the lineage follows the profiles' own merged_into, as the SQL adapter does.
    merged_into: dict[str, str] = field(default_factory=dict)
    holds: dict[str, LegalHold] = field(default_factory=dict)
    requests: list[ErasureRequest] = field(default_factory=list)
    suppressed: set[ContactPointValue] = field(default_factory=set)
    flags: dict[str, list[str]] = field(default_factory=dict)
    tombstones: dict[str, str] = field(default_factory=dict)
    erased_locations: list[tuple[str, ...]] = field(default_factory=list)
    policies: dict[str, StoredPolicy] = field(default_factory=dict)
    confirmations: dict[str, Confirmation] = field(default_factory=dict)
    audited: list[DomainEvent] = field(default_factory=list)


class FakePrivacy:
    def __init__(self, state: PrivacyState, profiles: Mapping[str, CustomerProfile]) -> None:
        self._state = state
        self._profiles = profiles
        self.events: list[DomainEvent] = []

    async def lineage(self, customer_id: str) -> list[str]:
        if customer_id not in self._profiles:
            raise CustomerNotFound(customer_id)
        merged_into = {p.id: p.merged_into for p in self._profiles.values() if p.merged_into}
        root = customer_id
        while root in merged_into:
            root = merged_into[root]
        found, frontier = [root], [root]
        while frontier:
            frontier = sorted(s for s, t in merged_into.items() if t in frontier)
            found.extend(frontier)
        return found

    async def holds(self, customer_ids: Collection[str]) -> list[LegalHold]:
        held = [h for h in self._state.holds.values() if h.customer_id in customer_ids]
        return [copy.copy(h) for h in sorted(held, key=lambda h: (h.placed_at, h.id))]

    async def hold_for_update(self, customer_id: str, hold_id: str) -> LegalHold:
        hold = self._state.holds.get(hold_id)
        if hold is None or hold.customer_id != customer_id:
            raise LegalHoldNotFound(customer_id, hold_id)
        return copy.copy(hold)

    async def add_hold(self, hold: LegalHold) -> None:
        self._state.holds[hold.id] = copy.copy(hold)

    async def save_hold(self, hold: LegalHold) -> None:
        self._state.holds[hold.id] = copy.copy(hold)

    async def add_erasure_request(self, request: ErasureRequest) -> None:
        self._state.requests.append(request)

    async def erase_personal_data(self, customer_ids: Sequence[str]) -> tuple[str, ...]:
        self._state.erased_locations.append(tuple(customer_ids))
        return ("AUDIT_VALUES", "CONTACTS", "PROFILE")

    async def mark_erased(self, customer_ids: Sequence[str], request_id: str, now: datetime) -> None:
        for customer_id in customer_ids:
            self._state.tombstones[customer_id] = request_id
            self._state.flags.pop(customer_id, None)

    async def suppress(self, points: Collection[ContactPointValue], request_id: str, now: datetime) -> None:
        self._state.suppressed |= set(points)

    async def suppressed(self, points: Collection[ContactPointValue]) -> bool:
        return bool(self._state.suppressed & set(points))

    async def flags(self, customer_id: str) -> list[str]:
        return list(self._state.flags.get(customer_id, []))

    async def set_flags(self, customer_id: str, flags: Sequence[str]) -> None:
        if customer_id in self._profiles:
            self._state.flags[customer_id] = sorted(set(flags))

    async def export(self, customer_ids: Sequence[str]) -> dict[str, Any]:
        return {"profiles": [{"id": i} for i in customer_ids]}


class FakeConsentRules:
    def __init__(self, state: PrivacyState, consents: Sequence[ConsentRecord]) -> None:
        self._state = state
        self._consents = consents

    async def policy(self, purpose: str) -> PurposePolicy:
        stored = self._state.policies.get(purpose)
        return stored.policy if stored else default_policy(purpose)

    async def stored_policies(self) -> list[StoredPolicy]:
        return [self._state.policies[purpose] for purpose in sorted(self._state.policies)]

    async def save_policy(
        self, policy: PurposePolicy, *, expected_version: int | None, actor: str, now: datetime
    ) -> int:
        stored = self._state.policies.get(policy.purpose)
        current = stored.version if stored else 0
        if expected_version is not None and expected_version != current:
            raise VersionMismatch(f"consent-policy/{policy.purpose}", expected_version, current)
        self._state.policies[policy.purpose] = StoredPolicy(policy, current + 1, now, actor)
        return current + 1

    async def add_confirmation(self, confirmation: Confirmation) -> None:
        self._state.confirmations[confirmation.token_hash] = confirmation

    async def confirmation_for_update(self, token_hash: str) -> Confirmation | None:
        return self._state.confirmations.get(token_hash)

    async def mark_used(self, token_hash: str, now: datetime, confirmation_consent_id: str) -> None:
        self._state.confirmations[token_hash] = dataclasses.replace(self._state.confirmations[token_hash], used_at=now)

    async def consent(self, consent_id: str) -> ConsentRecord | None:
        return next((r for r in self._consents if r.id == consent_id), None)
