"""What a customer is entitled to (from Contracts) and what other contexts tell us about it.

Pure values with their rules: a contract's entitlement and the effective SLA on a day, a service order
of the customer's service history, and the credit terms Finance/AR owns (shown read-only here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pycountry

from customer360.domain.errors import InvalidValue
from customer360.domain.values import clean_optional_text, clean_text

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,39}$")
# A week is the longest response time and a year the longest resolution time we take as real.
_MAX_RESPONSE_MINUTES = 7 * 24 * 60
_MAX_RESOLUTION_MINUTES = 366 * 24 * 60


def code(value: str, field: str) -> str:
    """An upper-case code such as GOLD, NET30, REPAIR (letters, digits, _ . : -)."""
    text = clean_text(value, field, max_length=40)
    if not _CODE.match(text):
        raise InvalidValue(field, "must be a code of letters, digits, '_', '.', ':' or '-' (at most 40)")
    return text.upper()


@dataclass(frozen=True, slots=True)
class Entitlement:
    """One activated contract: the services it covers, its SLA and when it is valid (both days inclusive)."""

    contract_id: str
    customer_id: str
    services: tuple[str, ...]
    sla_tier: str
    response_time_minutes: int
    resolution_time_minutes: int
    valid_from: date
    valid_to: date | None

    @classmethod
    def create(
        cls,
        *,
        contract_id: str,
        customer_id: str,
        services: list[str],
        sla_tier: str,
        response_time_minutes: int,
        resolution_time_minutes: int,
        valid_from: date,
        valid_to: date | None,
    ) -> Entitlement:
        terms = (sla_tier, response_time_minutes, resolution_time_minutes, valid_from, valid_to)
        return cls(contract_id, customer_id, tuple(services), *terms).checked()

    def checked(self) -> Entitlement:
        """The entitlement as Contracts sent it, validated: codes upper-case, services once each."""
        if not self.services:
            raise InvalidValue("services", "must name at least one service")
        if not 0 < self.response_time_minutes <= _MAX_RESPONSE_MINUTES:
            raise InvalidValue("responseTimeMinutes", f"must be between 1 and {_MAX_RESPONSE_MINUTES}")
        if not self.response_time_minutes <= self.resolution_time_minutes <= _MAX_RESOLUTION_MINUTES:
            raise InvalidValue("resolutionTimeMinutes", "must be at least the response time and at most a year")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise InvalidValue("validTo", "must not be before validFrom")
        return replace(
            self,
            contract_id=clean_text(self.contract_id, "contractId", max_length=128),
            services=tuple(dict.fromkeys(code(s, f"services[{i}]") for i, s in enumerate(self.services))),
            sla_tier=code(self.sla_tier, "slaTier"),
        )

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def effective_sla(entitlements: list[Entitlement], day: date) -> Entitlement | None:
    """The entitlement whose SLA applies on ``day``: among the active ones, the fastest response, then
    the fastest resolution, then the contract that ends last (a customer gets the best it paid for)."""
    active = [e for e in entitlements if e.active_on(day)]
    if not active:
        return None
    return min(
        active,
        key=lambda e: (e.response_time_minutes, e.resolution_time_minutes, -(e.valid_to or date.max).toordinal()),
    )


@dataclass(frozen=True, slots=True)
class ServiceOrder:
    """A service order opened for the customer: one line of its service history."""

    service_order_id: str
    customer_id: str
    order_number: str | None
    order_type: str | None
    priority: str | None
    status: str
    opened_at: datetime
    summary: str | None

    def checked(self) -> ServiceOrder:
        """The order as Service Management sent it, validated: codes upper-case, texts cleaned."""
        return replace(
            self,
            service_order_id=clean_text(self.service_order_id, "serviceOrderId", max_length=128),
            order_number=clean_optional_text(self.order_number, "orderNumber", max_length=64),
            order_type=None if self.order_type is None else code(self.order_type, "orderType"),
            priority=None if self.priority is None else code(self.priority, "priority"),
            status=code(self.status, "status"),
            summary=clean_optional_text(self.summary, "summary", max_length=1000),
        )


@dataclass(frozen=True, slots=True)
class CreditTermsChange:
    """Finance/AR's credit data as a master update carries it: None means "unchanged"."""

    credit_limit: Decimal | None = None
    currency: str | None = None
    payment_terms: str | None = None
    credit_blocked: bool | None = None

    @classmethod
    def create(
        cls,
        *,
        credit_limit: str | None,
        currency: str | None,
        payment_terms: str | None,
        credit_blocked: bool | None,
    ) -> CreditTermsChange:
        return cls(
            credit_limit=None if credit_limit is None else _amount(credit_limit, "creditLimit"),
            currency=None if currency is None else _currency(currency, "creditCurrency"),
            payment_terms=None if payment_terms is None else code(payment_terms, "paymentTerms"),
            credit_blocked=credit_blocked,
        )

    @property
    def empty(self) -> bool:
        return (self.credit_limit, self.currency, self.payment_terms, self.credit_blocked) == (None,) * 4


def _amount(value: str, field: str) -> Decimal:
    try:
        amount = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidValue(field, "must be a decimal number such as 250000.00") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e16") or amount != round(amount, 2):
        raise InvalidValue(field, "must be between 0 and 10^16 with at most two decimals")
    return amount.quantize(Decimal("0.01"))


def _currency(value: str, field: str) -> str:
    currency = value.strip().upper()
    if pycountry.currencies.get(alpha_3=currency) is None:
        raise InvalidValue(field, "is not an ISO 4217 currency code")
    return currency
