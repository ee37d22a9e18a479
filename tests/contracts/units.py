"""What a contract suite runs against: units of work over one store, the in-memory fake or PostgreSQL.

A contract is a class of tests written against the application's ports only (``uow.customers``,
``uow.merges``…). ``tests/unit/test_port_contracts.py`` runs each against the fakes and
``tests/integration/test_port_contracts.py`` against the SQL adapters, by giving it a ``units`` fixture:
``async with units() as uow`` opens a unit of work that commits when the block ends and rolls back when
it raises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Protocol

from customer360.application.inputs import ContactInput, EmailInput, ExternalRefInput, PhoneInput, ProfileInput
from customer360.application.ports import UnitOfWork
from customer360.application.profile_input import parse_contact, parse_profile
from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    LegalBasis,
)
from customer360.domain.customer import CustomerProfile
from customer360.domain.ids import CONSENT_PREFIX, CONTACT_PREFIX, CUSTOMER_PREFIX, RELATIONSHIP_PREFIX, new_id
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.domain.values import Channel, CustomerStatus

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Units(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


class Boom(Exception):
    """Raised inside a unit of work to roll it back."""


async def abandoned(units: Units, work: Callable[[UnitOfWork], Awaitable[object]]) -> None:
    """Run ``work`` (and flush) in a unit of work that then raises: what it did must not be kept."""
    try:
        async with units() as uow:
            await work(uow)
            await uow.flush()
            raise Boom
    except Boom:
        return


def moments(start: datetime = T0) -> Iterator[datetime]:
    """Distinct, increasing timestamps (whole milliseconds: PostgreSQL keeps microseconds)."""
    for i in count():
        yield start + timedelta(milliseconds=i)


def profile(
    name: str = "Acme GmbH",
    *,
    now: datetime = T0,
    emails: tuple[str, ...] = (),
    refs: tuple[tuple[str, str], ...] = (),
    contacts: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
) -> CustomerProfile:
    """A new organisation profile, built by the domain as a use case would build it."""
    given = ProfileInput(
        name=name,
        emails=tuple(EmailInput(address=e) for e in emails),
        phones=tuple(PhoneInput(number=p) for p in phones),
        external_refs=tuple(ExternalRefInput(source_system=s, external_id=i) for s, i in refs),
    )
    return CustomerProfile.create(
        id=new_id(CUSTOMER_PREFIX),
        tenant_id="contract",
        attributes=parse_profile(given, region="DE", today=now.date()),
        status=CustomerStatus.ACTIVE,
        contacts=[(new_id(CONTACT_PREFIX), parse_contact(ContactInput(name=c), region="DE")) for c in contacts],
        actor="contract",
        now=now,
    )


def consent(customer_id: str, *, now: datetime = T0, status: ConsentStatus = ConsentStatus.GRANTED) -> ConsentRecord:
    return ConsentRecord.capture(
        id=new_id(CONSENT_PREFIX),
        customer_id=customer_id,
        channel=Channel.EMAIL,
        purpose="MARKETING",
        status=status,
        contact_point=None,
        legal_basis=LegalBasis.CONSENT,
        source=CaptureSource.API,
        policy_version=None,
        evidence=ConsentEvidence(captured_by="contract"),
        actor="contract",
        now=now,
    )


def link(
    from_id: str, to_id: str, *, now: datetime = T0, type: RelationshipType = RelationshipType.PARTNER_OF
) -> Relationship:
    return Relationship(
        id=new_id(RELATIONSHIP_PREFIX),
        from_customer_id=from_id,
        to_customer_id=to_id,
        type=type,
        valid_from=date(2026, 1, 1),
        valid_to=None,
        created_at=now,
        created_by="contract",
    )


async def stored(units: Units, *profiles: CustomerProfile) -> list[str]:
    """Add the profiles in one unit of work; their ids."""
    async with units() as uow:
        for p in profiles:
            await uow.customers.add(p)
    return [p.id for p in profiles]
