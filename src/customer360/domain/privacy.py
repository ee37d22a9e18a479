"""GDPR rules: legal holds, erasure requests and the tombstone an erased profile becomes.

- **Legal holds** block erasure while active (not released, not past their expiry) on *any* profile of
  the merge lineage: the lineage is one person, and erasing a part would erase the held data too.
- **Erasure** replaces every personal value of a profile and its contacts with :data:`ERASED` (or
  nothing) and keeps what is not personal: ids, kind, segment, statuses, dates, contact roles, counts.
  The profile becomes a tombstone (status ERASED) that stays readable. Merge links (``merged_into``) stay,
  so old ids downstream still resolve. The event of the erasure carries the request id and the classes
  of data erased (the proof), never a value.
- The erased e-mail addresses and phone numbers go to a suppression list as keyed hashes (persistence
  hashes them), so that a later import or lead re-creating the person is flagged, not silently marketed to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from customer360.domain.customer import CustomerProfile, Erasure
from customer360.domain.errors import BusinessRuleViolation, Conflict, InvalidValue, NotFound
from customer360.domain.profile_attributes import ContactAttributes, ProfileAttributes
from customer360.domain.values import CustomerStatus, clean_text

ERASED = "[erased]"
SUPPRESSED_FLAG = "SUPPRESSED_CONTACT_POINT"


class LegalHoldActive(Conflict):
    """Erasure is blocked by a legal hold on a profile of the lineage (HTTP 409, with the hold)."""

    code = "LEGAL_HOLD_ACTIVE"

    def __init__(self, hold: LegalHold) -> None:
        super().__init__(
            f"Legal hold {hold.id} on customer {hold.customer_id} blocks the erasure",
            {
                "holdId": hold.id,
                "customerId": hold.customer_id,
                "placedAt": hold.placed_at.isoformat(),
                "placedBy": hold.placed_by,
                "expiresAt": hold.expires_at.isoformat() if hold.expires_at else None,
            },
        )
        self.hold = hold


class LegalHoldNotFound(NotFound):
    code = "LEGAL_HOLD_NOT_FOUND"

    def __init__(self, customer_id: str, hold_id: str) -> None:
        super().__init__(
            f"Legal hold {hold_id} not found on customer {customer_id}", {"customerId": customer_id, "holdId": hold_id}
        )


@dataclass(slots=True)
class LegalHold:
    id: str
    customer_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    expires_at: datetime | None = None
    released_at: datetime | None = None
    released_by: str | None = None

    @classmethod
    def place(
        cls, *, id: str, customer_id: str, reason: str, expires_at: datetime | None, actor: str, now: datetime
    ) -> LegalHold:
        if expires_at is not None and expires_at <= now:
            raise InvalidValue("expiresAt", "must be in the future")
        return cls(id, customer_id, clean_text(reason, "reason", max_length=500), actor, now, expires_at)

    def active(self, now: datetime) -> bool:
        return self.released_at is None and (self.expires_at is None or self.expires_at > now)

    def release(self, *, actor: str, now: datetime) -> None:
        if not self.active(now):
            raise BusinessRuleViolation(
                "LEGAL_HOLD_NOT_ACTIVE", f"Legal hold {self.id} is not active", {"holdId": self.id}
            )
        self.released_at = now
        self.released_by = actor


def check_no_active_hold(holds: list[LegalHold], now: datetime) -> None:
    for hold in sorted(holds, key=lambda h: h.placed_at):
        if hold.active(now):
            raise LegalHoldActive(hold)


class ErasureStatus(StrEnum):
    COMPLETED = "COMPLETED"
    BLOCKED = "BLOCKED"


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """A data subject's request (Art. 17) and what became of it; it holds ids and codes only."""

    id: str
    customer_id: str
    reason: str
    requester: str
    status: ErasureStatus
    requested_at: datetime
    requested_by: str
    completed_at: datetime | None = None
    erased_customer_ids: tuple[str, ...] = ()
    data_classes: tuple[str, ...] = ()
    blocked_by: str | None = None


@dataclass(frozen=True, slots=True)
class ContactPointValue:
    """An erased e-mail (lower-case) or phone (E.164), on its way to the suppression list as a hash."""

    kind: str
    value: str


def personal_contact_points(profile: CustomerProfile) -> set[ContactPointValue]:
    """Every e-mail address and phone number of the profile and of all its contacts, retired ones too."""
    emails = [*profile.attributes.emails, *(e for c in profile.contacts for e in c.attributes.emails)]
    phones = [*profile.attributes.phones, *(p for c in profile.contacts for p in c.attributes.phones)]
    return {ContactPointValue("EMAIL", e.key) for e in emails} | {ContactPointValue("PHONE", p.e164) for p in phones}


def check_not_erased(profile: CustomerProfile) -> None:
    if profile.status is CustomerStatus.ERASED:
        raise BusinessRuleViolation("CUSTOMER_ERASED", f"Customer {profile.id} was erased", {"customerId": profile.id})


def check_lineage_not_erased(profiles: Iterable[CustomerProfile]) -> None:
    """The guard for anything that would bring a lineage's data back or mix it with another (unmerge,
    merge): refused with CUSTOMER_ERASED when any of the profiles is a tombstone."""
    for profile in profiles:
        check_not_erased(profile)


def erase_profile(
    profile: CustomerProfile,
    *,
    request_id: str,
    erased_ids: tuple[str, ...],
    data_classes: tuple[str, ...],
    announce: bool,
    actor: str,
    now: datetime,
) -> None:
    """Turn the profile into its tombstone; record the erasure (announced for the profile the request named)."""
    check_not_erased(profile)
    kept = profile.attributes
    profile.erase(
        ProfileAttributes(kind=kept.kind, name=ERASED, segment=kept.segment),
        {
            c.id: ContactAttributes(name=ERASED, roles=c.attributes.roles, primary_roles=c.attributes.primary_roles)
            for c in profile.contacts
        },
        Erasure(request_id, erased_ids, data_classes, announce),
        actor=actor,
        now=now,
    )
