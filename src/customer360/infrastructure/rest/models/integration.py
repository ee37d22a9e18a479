"""Responses of the integration look-ups (Service Orders, Finance/AR, Pipeline)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from customer360.infrastructure.rest.models.common import ApiOutput
from customer360.infrastructure.rest.models.customers import (
    AddressOut,
    CustomerOut,
    EmailOut,
    PhoneOut,
    TaxIdOut,
)

_REQUESTED = "The id asked for; differs from customerId when that profile was merged into customerId"


class EntitlementOut(ApiOutput):
    contract_id: str
    services: list[str]
    sla_tier: str
    response_time_minutes: int
    resolution_time_minutes: int
    valid_from: date
    valid_to: date | None = Field(description="Last valid day (inclusive); null for open-ended contracts")
    activated_at: datetime = Field(description="When Contracts activated the contract (the event's time)")


class EffectiveSla(ApiOutput):
    contract_id: str = Field(description="The contract whose SLA applies")
    sla_tier: str
    response_time_minutes: int
    resolution_time_minutes: int


class Entitlements(ApiOutput):
    customer_id: str = Field(description="The golden record")
    requested_id: str = Field(description=_REQUESTED)
    at: date
    entitlements: list[EntitlementOut] = Field(description="Contracts valid on `at`, best SLA first")
    effective_sla: EffectiveSla | None = Field(
        description="Fastest response (then resolution) among the active contracts; null when none is active"
    )


class BillingContact(ApiOutput):
    id: str
    name: str
    roles: list[str]
    primary: bool = Field(description="The primary BILLING contact")
    emails: list[EmailOut]
    phones: list[PhoneOut]


class Credit(ApiOutput):
    credit_limit: str | None = Field(description="Decimal string, e.g. 250000.00")
    currency: str | None
    payment_terms: str | None
    credit_blocked: bool | None
    source_system: str = Field(description="Who sent the data (Finance/AR owns it; through MDG)")
    updated_at: datetime = Field(description="Time of the master update the data comes from")


class Billing(ApiOutput):
    customer_id: str
    requested_id: str = Field(description=_REQUESTED)
    name: str
    legal_name: str | None
    billing_contacts: list[BillingContact] = Field(description="Contacts with the BILLING role, primary first")
    billing_address: AddressOut | None = Field(description="The BILLING address, else the REGISTERED one")
    addresses: list[AddressOut] = Field(description="Every BILLING and REGISTERED address")
    tax_ids: list[TaxIdOut]
    credit: Credit | None = Field(description="Finance/AR's credit read model; null until Finance/AR sent any")


class ServiceOrderOut(ApiOutput):
    service_order_id: str
    order_number: str | None
    order_type: str | None
    priority: str | None
    status: str
    opened_at: datetime
    summary: str | None


class ServiceHistory(ApiOutput):
    customer_id: str
    requested_id: str = Field(description=_REQUESTED)
    items: list[ServiceOrderOut] = Field(description="Newest first")
    next_cursor: str | None


class LookupResults(ApiOutput):
    matched_on: list[str] = Field(description="The keys given; every profile matches all of them exactly")
    items: list[CustomerOut]
