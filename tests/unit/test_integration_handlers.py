"""The handlers of consumed events against in-memory fakes: lead intake and its matcher seam, MDG updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from customer360.application import customers
from customer360.application.context import RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ProfileInput, given
from customer360.application.integration_events import ApplyMasterUpdate, LeadLink, apply_master_update
from customer360.application.leads import (
    LeadCandidate,
    LeadCreated,
    LeadIntake,
    LeadMatch,
    lead_candidate,
)
from customer360.application.ports import UnitOfWork
from customer360.domain.entitlements import CreditTermsChange, Entitlement, ServiceOrder
from customer360.domain.errors import InvalidValue
from customer360.domain.events import CustomerProfileCreated, CustomerProfileUpdated
from customer360.domain.values import CustomerKind, ExternalReference
from tests.support.inputs import profile_input
from tests.unit.fakes import FakeUnitOfWork, FixedClock, Store

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class FakeIntegrationStore:
    def __init__(self) -> None:
        self.links: dict[str, LeadLink] = {}
        self.credit: list[tuple[str, CreditTermsChange]] = []
        self.keys: dict[tuple[str, str], list[str]] = {}

    async def add_service_order(self, order: ServiceOrder, event_id: str, at: datetime) -> bool:
        return True

    async def upsert_entitlement(self, entitlement: Entitlement, activated_at: datetime, event_id: str) -> bool:
        return True

    async def update_credit(
        self, customer_id: str, change: CreditTermsChange, source_system: str, source_time: datetime, event_id: str
    ) -> bool:
        self.credit.append((customer_id, change))
        return True

    async def lead_owner(self, lead_id: str) -> str | None:
        link = self.links.get(lead_id)
        return None if link is None else link.customer_id

    async def link_lead(self, link: LeadLink) -> None:
        self.links[link.lead_id] = link

    async def customers_with_key(self, key_type: str, values: Sequence[str]) -> list[str]:
        return [c for value in values for c in self.keys.get((key_type, value), [])]


def env(source: str) -> HandlerEnv:
    return HandlerEnv(
        context=RequestContext(tenant_id="tenant-001", actor=source.lower(), correlation_id="corr-1", source=source),
        clock=FixedClock(),
        phone_region="DE",
        hasher=lambda value: value,
    )


def lead(lead_id: str = "L-1", **values: Any) -> LeadCreated:
    fields: dict[str, Any] = {
        "company_name": None,
        "given_name": None,
        "family_name": None,
        "email": None,
        "phone": None,
        "country": None,
        "tax_id": None,
    }
    fields.update(values)
    return LeadCreated(lead_id=lead_id, source="WEB", event_id=f"evt-{lead_id}", occurred_at=NOW, **fields)


async def existing_customer(store: Store, **attributes: Any) -> str:
    uow = FakeUnitOfWork(store)
    command = customers.CreateCustomerProfile(profile_input({"name": "Existing AG", **attributes}))
    result = await customers.create_customer_profile(command, uow, env("API"))
    await uow.commit()
    return result.customer_id


class AlwaysThis:
    """A matcher such as the duplicate-matching engine would plug in."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.asked: list[LeadCandidate] = []

    async def match(self, candidate: LeadCandidate, uow: UnitOfWork, store: Any) -> LeadMatch | None:
        self.asked.append(candidate)
        return LeadMatch(self.customer_id, "probabilistic")


class TestLeadIntake:
    async def test_a_new_lead_creates_a_profile_with_its_sales_reference(self) -> None:
        """ORGANIZATION, external ref SALES:L-1, the contact person as primary SALES contact; linked CREATED."""
        store, integration = Store(), FakeIntegrationStore()
        uow = FakeUnitOfWork(store)
        sent = lead(company_name="Nordwind GmbH", given_name="Jana", family_name="Berg", email="jana@nordwind.example")
        outcome = await LeadIntake()(sent, uow, env("SALES"), integration)
        await uow.commit()
        profile = store.profiles[outcome.customer_id]
        [created] = [e for e in store.published if isinstance(e, CustomerProfileCreated)]
        contact = profile.contacts[0].attributes
        assert (
            (ExternalReference("SALES", "L-1"),),
            "Jana Berg",
            {"SALES"},
            created.name,
            integration.links["L-1"].outcome,
        ) == (
            profile.attributes.external_refs,
            contact.name,
            {r.value for r in contact.primary_roles},
            "Nordwind GmbH",
            "CREATED",
        )

    async def test_the_first_matcher_that_answers_decides_the_attachment(self) -> None:
        """The seam: a matcher appended to the chain attaches the lead; the profile gets the SALES ref."""
        store, integration = Store(), FakeIntegrationStore()
        customer_id = await existing_customer(store)
        matcher = AlwaysThis(customer_id)
        uow = FakeUnitOfWork(store)
        outcome = await LeadIntake([matcher])(lead(company_name="Existing"), uow, env("SALES"), integration)
        await uow.commit()
        updates = [e for e in store.published if isinstance(e, CustomerProfileUpdated)]
        assert (
            len(store.profiles),
            outcome.outcome,
            outcome.matched_on,
            [e.source for e in updates],
            len(matcher.asked),
        ) == (1, "ATTACHED", "probabilistic", ["SALES"], 1)

    async def test_a_lead_already_linked_is_not_matched_again(self) -> None:
        """The second event of lead L-1 finds the link and changes nothing."""
        store, integration = Store(), FakeIntegrationStore()
        first = await LeadIntake()(
            lead(given_name="Eva", family_name="Lind"), FakeUnitOfWork(store), env("SALES"), integration
        )
        uow = FakeUnitOfWork(store)
        second = await LeadIntake()(lead(given_name="Eva", family_name="Lind"), uow, env("SALES"), integration)
        assert ("ALREADY_LINKED", first.customer_id, []) == (second.outcome, second.customer_id, uow.customers.seen())


class TestLeadCandidate:
    def test_unreadable_optional_values_are_dropped_by_name(self) -> None:
        """An e-mail that is no address and a phone without digits are left out, reported by field name."""
        candidate = lead_candidate(lead(given_name="Eva", email="nope", phone="n/a"), region="DE")
        assert (
            candidate.kind,
            candidate.email,
            candidate.phone,
            candidate.dropped,
        ) == (CustomerKind.PERSON, None, None, ("email", "phone"))

    def test_an_impossible_phone_is_kept_flagged(self) -> None:
        """A phone that cannot be a number is kept on the lead, not validated, and nothing is dropped."""
        candidate = lead_candidate(lead(given_name="Eva", phone="12"), region="DE")
        assert (candidate.phone.validated if candidate.phone else None, candidate.dropped) == (False, ())

    async def test_a_tax_id_failing_its_checksum_does_not_attach_a_lead(self) -> None:
        """A mistyped VAT number another profile holds is no identity: the lead becomes a profile of its own."""
        store, integration = Store(), FakeIntegrationStore()
        existing = await existing_customer(store, tax_ids=[{"country": "DE", "value": "DE136695977"}])
        integration.keys[("TAX_ID", "DE136695977")] = [existing]
        outcome = await LeadIntake()(
            lead(company_name="Omega Textil AG", tax_id="DE136695977"), FakeUnitOfWork(store), env("SALES"), integration
        )
        assert (outcome.outcome, outcome.customer_id != existing) == ("CREATED", True)

    def test_a_lead_without_any_name_is_refused(self) -> None:
        """No company and no contact name: InvalidValue (the consumer dead-letters it after its retries)."""
        with pytest.raises(InvalidValue):
            lead_candidate(lead(email="a@b.example"), region="DE")

    def test_the_tax_id_country_comes_from_its_prefix_or_the_lead(self) -> None:
        """DE 136 695 976 → DE136695976; 136695976 with country DE → the same."""
        values = [
            lead_candidate(lead(company_name="X", tax_id=t, country=c), region=None).tax_id
            for t, c in (("DE 136 695 976", None), ("136695976", "DE"))
        ]
        assert [v.value if v else None for v in values] == ["DE136695976", "DE136695976"]


class TestMasterUpdate:
    async def test_attribute_and_status_changes_are_recorded_with_source_mdg(self) -> None:
        """Both resulting update events say source MDG; the credit goes to the read model."""
        store, integration = Store(), FakeIntegrationStore()
        customer_id = await existing_customer(store)
        command = ApplyMasterUpdate(
            customer_id=customer_id,
            source_system="MDG",
            external_id=None,
            attributes=ProfileInput(name="Renamed AG", segment=given(None)),
            status="INACTIVE",
            credit=CreditTermsChange.create(
                credit_limit="1000.5", currency="EUR", payment_terms=None, credit_blocked=None
            ),
            occurred_at=NOW,
            event_id="evt-1",
        )
        uow = FakeUnitOfWork(store)
        result = await apply_master_update(command, uow, env("MDG"), integration)
        await uow.commit()
        sources = [e.source for e in store.published if isinstance(e, CustomerProfileUpdated)]
        credit = integration.credit[0][1]
        assert (
            sources,
            result.changed_fields,
            str(credit.credit_limit),
        ) == (["MDG", "MDG"], ["name", "status", "statusReason"], "1000.50")
