"""Use cases driven by the ERP's events: service history, the entitlement view, master data updates.

Each handler runs inside the consumer's unit of work, in the same transaction as the inbox row that
makes it idempotent; like every handler it never commits. Profile changes go through the ordinary use
cases (update/status), so they are validated, audited and published like any other change — with the
request context's ``source`` (``MDG`` for master data governance).

Why a master update is not echoed back to MDG: the resulting ``CustomerProfileUpdatedEvent`` carries
``source: "MDG"`` and MDG ignores events with its own source (docs/events.md); an update that changes
nothing records no event at all, so not even a no-op can bounce between the systems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from customer360.application.customers import (
    ChangeCustomerStatus,
    UpdateCustomerProfile,
    change_customer_status,
    update_customer_profile,
)
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ProfileInput, named_fields
from customer360.application.ports import UnitOfWork
from customer360.domain.customer import CustomerProfile
from customer360.domain.entitlements import CreditTermsChange, Entitlement, ServiceOrder
from customer360.domain.errors import CustomerNotFound
from customer360.domain.values import ExternalReference

# A chain of merges longer than this is a data problem, not something to follow forever.
_MAX_MERGE_HOPS = 10


@dataclass(frozen=True, slots=True)
class LeadLink:
    lead_id: str
    customer_id: str
    outcome: str
    matched_on: str | None
    lead_source: str
    event_id: str
    linked_at: datetime


class IntegrationStore(Protocol):
    """The read models fed by consumed events, and the key look-ups of the lead intake."""

    async def add_service_order(self, order: ServiceOrder, event_id: str, at: datetime) -> bool:
        """Append to the service history; False when the order was recorded before."""
        ...

    async def upsert_entitlement(self, entitlement: Entitlement, activated_at: datetime, event_id: str) -> bool:
        """Insert or replace by contract id, unless a newer activation is stored; True when written."""
        ...

    async def update_credit(
        self, customer_id: str, change: CreditTermsChange, source_system: str, source_time: datetime, event_id: str
    ) -> bool:
        """Apply the non-null fields, unless a newer update is stored; True when written."""
        ...

    async def lead_owner(self, lead_id: str) -> str | None: ...

    async def link_lead(self, link: LeadLink) -> None: ...

    async def customers_with_key(self, key_type: str, values: Sequence[str]) -> list[str]:
        """Ids of live profiles (not merged or erased) holding the key: active ones first, oldest first."""
        ...


async def survivor(uow: UnitOfWork, customer_id: str, *, for_update: bool = False) -> CustomerProfile:
    """The profile for an id other systems hold, following merges to the golden record."""
    profile = await (uow.customers.get_for_update if for_update else uow.customers.get)(customer_id)
    for _ in range(_MAX_MERGE_HOPS):
        if profile.merged_into is None:
            return profile
        profile = await (uow.customers.get_for_update if for_update else uow.customers.get)(profile.merged_into)
    raise CustomerNotFound(customer_id)


# ---------------------------------------------------------------------------------- service orders


@dataclass(frozen=True, slots=True)
class RecordServiceOrder:
    #: As the event names it: not yet validated, and its customer may since have been merged.
    order: ServiceOrder
    event_id: str


async def record_service_order(
    cmd: RecordServiceOrder, uow: UnitOfWork, env: HandlerEnv, store: IntegrationStore
) -> bool:
    profile = await survivor(uow, cmd.order.customer_id)
    order = replace(cmd.order, customer_id=profile.id).checked()
    return await store.add_service_order(order, cmd.event_id, env.clock.now())


# ---------------------------------------------------------------------------------- contracts


@dataclass(frozen=True, slots=True)
class ActivateContract:
    #: As the event names it: not yet validated, and its customer may since have been merged.
    contract: Entitlement
    activated_at: datetime
    event_id: str


async def activate_contract(cmd: ActivateContract, uow: UnitOfWork, env: HandlerEnv, store: IntegrationStore) -> bool:
    profile = await survivor(uow, cmd.contract.customer_id)
    entitlement = replace(cmd.contract, customer_id=profile.id).checked()
    return await store.upsert_entitlement(entitlement, cmd.activated_at, cmd.event_id)


# ---------------------------------------------------------------------------------- master data


@dataclass(frozen=True, slots=True)
class ApplyMasterUpdate:
    """Changed master attributes; a None (or absent) attribute is unchanged."""

    customer_id: str | None
    source_system: str
    external_id: str | None
    #: The changed profile attributes, as a merge patch of the profile (only what the update names).
    attributes: ProfileInput
    status: str | None
    credit: CreditTermsChange
    occurred_at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class MasterUpdateApplied:
    customer_id: str
    changed_fields: list[str] = field(default_factory=list)
    credit_written: bool = False


async def apply_master_update(
    cmd: ApplyMasterUpdate, uow: UnitOfWork, env: HandlerEnv, store: IntegrationStore
) -> MasterUpdateApplied:
    customer_id = cmd.customer_id or await _owner(uow, cmd.source_system, cmd.external_id)
    profile = await survivor(uow, customer_id, for_update=True)
    changed: set[str] = set()
    if named_fields(cmd.attributes):
        result = await update_customer_profile(UpdateCustomerProfile(profile.id, cmd.attributes), uow, env)
        changed.update(result.changed_fields)
    if cmd.status is not None:
        status = ChangeCustomerStatus(profile.id, cmd.status, reason=f"master data update from {cmd.source_system}")
        changed.update((await change_customer_status(status, uow, env)).changed_fields)
    written = False
    if not cmd.credit.empty:
        written = await store.update_credit(profile.id, cmd.credit, cmd.source_system, cmd.occurred_at, cmd.event_id)
    return MasterUpdateApplied(profile.id, sorted(changed), written)


async def _owner(uow: UnitOfWork, source_system: str, external_id: str | None) -> str:
    if not external_id:
        raise CustomerNotFound("(no customerId and no externalId)")
    ref = ExternalReference.create("externalId", source_system=source_system, external_id=external_id)
    owner = await uow.customers.owner_of_external_ref(ref)
    if owner is None:
        raise CustomerNotFound(f"{ref.source_system}:{ref.external_id}")
    return owner
