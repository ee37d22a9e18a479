"""Queries of the consent policy: the single check (with its explanation), the bulk check for campaigns,
and the grants about to expire.

The single check loads one customer's records and context and asks the domain (``decide``). The bulk
check answers the same question for up to 100,000 customers in one statement: persistence repeats the
precedence and the verdict of ``domain.consent_policy`` in SQL (a test holds the two to the same answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from customer360.application.privacy_ports import StoredPolicy
from customer360.domain.consent import ConsentRecord, ContactPoint, ContactPointKind
from customer360.domain.consent_policy import ConsentDecision, CustomerContext, PurposePolicy, decide
from customer360.domain.errors import CustomerNotFound, InvalidValue
from customer360.domain.ids import CONTACT_PREFIX, is_valid_id
from customer360.domain.values import Channel, EmailAddress, PhoneNumber, topic_code

MAX_BULK_IDS = 100_000


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    records: list[ConsentRecord]
    customer: CustomerContext
    policy: PurposePolicy


@dataclass(frozen=True, slots=True)
class ExpiringGrant:
    customer_id: str
    consent_id: str
    channel: str
    purpose: str
    contact_point: ContactPoint | None
    expires_at: datetime


class ConsentCheckQueries(Protocol):
    async def decision_inputs(
        self, tenant_id: str, customer_id: str, channel: Channel, purpose: str, contact_point: ContactPoint | None
    ) -> DecisionInputs | None:
        """Records about (channel, purpose), the customer's context and the purpose policy; None: no customer."""
        ...

    async def allowed(
        self, tenant_id: str, customer_ids: Sequence[str], channel: Channel, policy: PurposePolicy, now: datetime
    ) -> list[str]:
        """The customers among ``customer_ids`` the channel-wide check allows, in the order given."""
        ...

    async def policy(self, tenant_id: str, purpose: str) -> PurposePolicy: ...

    async def stored_policies(self, tenant_id: str) -> list[StoredPolicy]:
        """The tenant's own purpose policies (the defaults of the other purposes are not stored)."""
        ...

    async def expiring(
        self, tenant_id: str, now: datetime, until: datetime, after: str | None, limit: int
    ) -> tuple[list[ExpiringGrant], str | None]:
        """Up to ``limit`` deciding grants that expire in [now, until), ordered by (expiry, consent id),
        after a cursor; and the cursor of the next page (None on the last)."""
        ...


def contact_point_of(raw: str | None, *, region: str | None) -> ContactPoint | None:
    """``contactPoint`` as a caller writes it: a contact id, an e-mail address or a phone number."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if value.upper().startswith(f"{CONTACT_PREFIX}-"):
        if not is_valid_id(CONTACT_PREFIX, value):
            raise InvalidValue("contactPoint", "is not a contact id")
        return ContactPoint(ContactPointKind.CONTACT, value)
    if "@" in value:
        return ContactPoint(ContactPointKind.EMAIL, EmailAddress.parse(value, "contactPoint").key)
    return ContactPoint(ContactPointKind.PHONE, PhoneNumber.parse(value, "contactPoint", default_region=region).e164)


async def check_consent(
    queries: ConsentCheckQueries,
    tenant_id: str,
    customer_id: str,
    *,
    channel: Channel,
    purpose: str,
    contact_point: ContactPoint | None,
    now: datetime,
) -> ConsentDecision:
    inputs = await queries.decision_inputs(
        tenant_id, customer_id, channel, topic_code(purpose, "purpose"), contact_point
    )
    if inputs is None:
        raise CustomerNotFound(customer_id)
    return decide(
        inputs.records,
        channel=channel,
        purpose=inputs.policy.purpose,
        contact_point=contact_point,
        now=now,
        policy=inputs.policy,
        customer=inputs.customer,
    )


async def check_bulk(
    queries: ConsentCheckQueries,
    tenant_id: str,
    customer_ids: Sequence[str],
    *,
    channel: Channel,
    purpose: str,
    now: datetime,
) -> list[str]:
    """The allowed subset (channel-wide consent) of up to MAX_BULK_IDS customers, in the order given."""
    if len(customer_ids) > MAX_BULK_IDS:
        raise InvalidValue("customerIds", f"at most {MAX_BULK_IDS} ids per request")
    policy = await queries.policy(tenant_id, topic_code(purpose, "purpose"))
    # Ids are printable ASCII; anything else cannot be a customer (and may not even encode): not allowed.
    plausible = [i for i in customer_ids if i.isascii() and i.isprintable()]
    return await queries.allowed(tenant_id, plausible, channel, policy, now)


_WITHIN_UNITS = {"d": "days", "h": "hours"}


def parse_within(value: str) -> timedelta:
    """``30d`` or ``12h`` (at most 3650 days)."""
    text = value.strip().lower()
    unit = _WITHIN_UNITS.get(text[-1:]) if text else None
    if unit is None or not text[:-1].isdigit() or len(text) > 8:
        raise InvalidValue("within", "must be a number of days or hours, such as 30d or 12h")
    delta = timedelta(**{unit: int(text[:-1])})
    if not timedelta(0) < delta <= timedelta(days=3650):
        raise InvalidValue("within", "must be between 1h and 3650d")
    return delta
