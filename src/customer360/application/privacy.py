"""Data-subject rights: legal holds, erasure (Art. 17), access and portability (Art. 15/20), suppression.

**The lineage is the person.** A merged profile's data lives on in its survivor, and the survivor's in
every profile merged into it. Export and erasure therefore act on the whole merge lineage of the id they
are given, in both directions (``uow.privacy.lineage``), and a legal hold on any profile of it blocks the
erasure of all of it.

**Erasure in one transaction.** Every profile of the lineage is locked (id order, like merges), the holds
are checked, the registered locations are anonymised (persistence's personal-data registry: consent
values and evidence, audit values, stored events and responses, merge images, the other tables), each
profile becomes its tombstone (``domain.privacy.erase_profile``), the erased e-mails and phones go to the
suppression list as keyed hashes, and the request is stored with what was erased. The CustomerErasedEvent
(through the outbox) tells downstream systems to purge their copies. Handlers never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import BusinessRuleViolation
from customer360.domain.events import FieldChange, PrivacyActivity
from customer360.domain.ids import ERASURE_PREFIX, LEGAL_HOLD_PREFIX
from customer360.domain.primitives import to_primitive
from customer360.domain.privacy import (
    SUPPRESSED_FLAG,
    ErasureRequest,
    ErasureStatus,
    LegalHold,
    check_lineage_not_erased,
    check_no_active_hold,
    check_not_erased,
    erase_profile,
    personal_contact_points,
)
from customer360.domain.values import clean_text


def _audit(uow: UnitOfWork, env: HandlerEnv, customer_id: str, what: str, *changes: FieldChange, **entity: Any) -> None:
    uow.privacy.events.append(
        PrivacyActivity(
            customer_id=customer_id,
            occurred_at=env.clock.now(),
            actor=env.context.actor,
            changes=changes,
            what=what,
            **entity,
        )
    )


# -- legal holds ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlaceLegalHold:
    customer_id: str
    reason: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReleaseLegalHold:
    customer_id: str
    hold_id: str


async def place_legal_hold(cmd: PlaceLegalHold, uow: UnitOfWork, env: HandlerEnv) -> LegalHold:
    # The row lock orders a hold against a concurrent erasure of the same lineage.
    profile = await uow.customers.get_for_update(cmd.customer_id)
    check_not_erased(profile)
    hold = LegalHold.place(
        id=env.new_id(LEGAL_HOLD_PREFIX),
        customer_id=profile.id,
        reason=cmd.reason,
        expires_at=cmd.expires_at,
        actor=env.context.actor,
        now=env.clock.now(),
    )
    await uow.privacy.add_hold(hold)
    _audit(
        uow,
        env,
        profile.id,
        "LEGAL_HOLD_PLACED",
        FieldChange("expiresAt", None, to_primitive(hold.expires_at)),
        entity_type="LEGAL_HOLD",
        entity_id=hold.id,
    )
    return hold


async def release_legal_hold(cmd: ReleaseLegalHold, uow: UnitOfWork, env: HandlerEnv) -> LegalHold:
    hold = await uow.privacy.hold_for_update(cmd.customer_id, cmd.hold_id)
    hold.release(actor=env.context.actor, now=env.clock.now())
    await uow.privacy.save_hold(hold)
    _audit(uow, env, hold.customer_id, "LEGAL_HOLD_RELEASED", entity_type="LEGAL_HOLD", entity_id=hold.id)
    return hold


# -- erasure ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EraseCustomer:
    customer_id: str
    reason: str
    requester: str


@dataclass(frozen=True, slots=True)
class RecordBlockedErasure:
    customer_id: str
    reason: str
    requester: str
    hold_id: str


async def _lineage_locked(uow: UnitOfWork, customer_id: str) -> list[CustomerProfile]:
    """The lineage's profiles, survivor first; locked in id order (like merges), so no deadlock."""
    lineage = await uow.privacy.lineage(customer_id)
    locked = {i: await uow.customers.get_for_update(i) for i in sorted(lineage)}
    return [locked[i] for i in lineage]


async def erase_customer(cmd: EraseCustomer, uow: UnitOfWork, env: HandlerEnv) -> ErasureRequest:
    reason = clean_text(cmd.reason, "reason", max_length=500)
    requester = clean_text(cmd.requester, "requester", max_length=200)
    profiles = await _lineage_locked(uow, cmd.customer_id)
    check_lineage_not_erased(profiles)
    now = env.clock.now()
    ids = tuple(p.id for p in profiles)
    check_no_active_hold(await uow.privacy.holds(ids), now)
    request_id = env.new_id(ERASURE_PREFIX)
    points = set().union(*(personal_contact_points(p) for p in profiles))
    classes = await uow.privacy.erase_personal_data(ids)
    for profile in profiles:
        erase_profile(
            profile,
            request_id=request_id,
            erased_ids=ids,
            data_classes=classes,
            announce=profile.id == cmd.customer_id,
            actor=env.context.actor,
            now=now,
        )
    await uow.flush()
    await uow.privacy.mark_erased(ids, request_id, now)
    await uow.privacy.suppress(points, request_id, now)
    request = ErasureRequest(
        id=request_id,
        customer_id=cmd.customer_id,
        reason=reason,
        requester=requester,
        status=ErasureStatus.COMPLETED,
        requested_at=now,
        requested_by=env.context.actor,
        completed_at=now,
        erased_customer_ids=ids,
        data_classes=classes,
    )
    await uow.privacy.add_erasure_request(request)
    return request


async def record_blocked_erasure(cmd: RecordBlockedErasure, uow: UnitOfWork, env: HandlerEnv) -> ErasureRequest:
    """A request refused because of a legal hold stays on record, to be taken up when the hold ends."""
    profile = await uow.customers.get(cmd.customer_id)
    now = env.clock.now()
    request = ErasureRequest(
        id=env.new_id(ERASURE_PREFIX),
        customer_id=profile.id,
        reason=clean_text(cmd.reason, "reason", max_length=500),
        requester=clean_text(cmd.requester, "requester", max_length=200),
        status=ErasureStatus.BLOCKED,
        requested_at=now,
        requested_by=env.context.actor,
        blocked_by=cmd.hold_id,
    )
    await uow.privacy.add_erasure_request(request)
    _audit(
        uow,
        env,
        profile.id,
        "ERASURE_BLOCKED",
        FieldChange("erasureRequestId", None, request.id),
        FieldChange("holdId", None, cmd.hold_id),
        entity_type="ERASURE",
        entity_id=request.id,
    )
    return request


# -- access and portability ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExportPersonalData:
    customer_id: str


async def export_personal_data(cmd: ExportPersonalData, uow: UnitOfWork, env: HandlerEnv) -> dict[str, Any]:
    """Everything held about the person, read in one transaction; the export itself is audited."""
    lineage = await uow.privacy.lineage(cmd.customer_id)
    sections = await uow.privacy.export(lineage)
    now = env.clock.now()
    _audit(
        uow,
        env,
        cmd.customer_id,
        "PERSONAL_DATA_EXPORTED",
        FieldChange("customerIds", None, list(lineage)),
        FieldChange("sections", None, sorted(sections)),
    )
    return {
        "customerId": cmd.customer_id,
        "goldenCustomerId": lineage[0],
        "lineage": list(lineage),
        "exportedAt": now,
        "exportedBy": env.context.actor,
        **sections,
    }


# -- suppression ----------------------------------------------------------------------------------------
async def flag_if_suppressed(profile: CustomerProfile, uow: UnitOfWork, env: HandlerEnv) -> bool:
    """A new profile with an e-mail or phone of an erased person is flagged (never silently contactable)."""
    points = personal_contact_points(profile)
    if not points or not await uow.privacy.suppressed(points):
        return False
    await uow.flush()  # the flag is a column of the profile row
    await uow.privacy.set_flags(profile.id, [SUPPRESSED_FLAG])
    _audit(uow, env, profile.id, "PRIVACY_FLAG_SET", FieldChange("privacyFlags", None, [SUPPRESSED_FLAG]))
    return True


@dataclass(frozen=True, slots=True)
class ClearPrivacyFlag:
    customer_id: str
    flag: str


async def clear_privacy_flag(cmd: ClearPrivacyFlag, uow: UnitOfWork, env: HandlerEnv) -> list[str]:
    """A steward who verified the person's fresh consent clears the flag; the remaining flags."""
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_is_writable()
    flags = await uow.privacy.flags(profile.id)
    if cmd.flag not in flags:
        raise BusinessRuleViolation(
            "PRIVACY_FLAG_NOT_SET", f"Customer {profile.id} has no flag {cmd.flag}", {"flag": cmd.flag}
        )
    remaining = [f for f in flags if f != cmd.flag]
    await uow.privacy.set_flags(profile.id, remaining)
    _audit(uow, env, profile.id, "PRIVACY_FLAG_CLEARED", FieldChange("privacyFlags", flags, remaining))
    return remaining
