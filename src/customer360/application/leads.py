"""LeadCreatedEvent from Sales: create the initial customer profile, or attach the lead to an existing one.

**The seam for duplicate matching.** Whether a lead belongs to an existing profile is asked of a chain of
:class:`LeadMatcher` objects, in order; the first match wins and the lead is attached to it, otherwise a
new profile is created. :func:`default_lead_matchers` holds the chain: the exact keys
(:class:`ExactKeyMatcher`: the lead's SALES reference, its tax id, its e-mail address), then the
probabilistic duplicate check (``lead_matching.LikelyDuplicateMatcher``: the best profile at or above the
tenant's likely-duplicate threshold). Another chain can be passed to :class:`LeadIntake`; a matcher gets
the candidate with normalised values and may read through the unit of work and the integration store
of the same transaction.

A lead id is handled once whatever its event ids: the link is stored (``lead_link``) and a second event
for the same lead finds it. A phone that cannot be a number or a tax id failing its checksum is kept,
flagged ``validated: false`` (as by every create); optional values that cannot be read at all (an e-mail
that is no address, a phone without digits, a tax id without a country) are dropped rather than losing the
lead; their field names are reported, never values. Only a tax id that passed its check attaches a lead
by itself: a mistyped one shared with another profile is evidence for the duplicate check, not an identity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from customer360.application.customers import (
    CreateCustomerProfile,
    UpdateCustomerProfile,
    create_customer_profile,
    update_customer_profile,
)
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import (
    ContactInput,
    EmailInput,
    ExternalRefInput,
    PhoneInput,
    ProfileInput,
    TaxIdInput,
)
from customer360.application.integration_events import IntegrationStore, LeadLink, survivor
from customer360.application.ports import UnitOfWork
from customer360.domain.errors import InvalidValue
from customer360.domain.values import (
    ContactRole,
    CustomerKind,
    EmailAddress,
    ExternalReference,
    PhoneNumber,
    TaxId,
    TaxIdType,
    clean_optional_text,
)

SALES = "SALES"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LeadCreated:
    lead_id: str
    company_name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    phone: str | None
    country: str | None
    tax_id: str | None
    source: str
    event_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class LeadCandidate:
    """A lead with its values validated: what a new profile would be made of, and its exact keys."""

    lead: LeadCreated
    kind: CustomerKind
    name: str | None
    given_name: str | None
    family_name: str | None
    email: EmailAddress | None
    phone: PhoneNumber | None
    tax_id: TaxId | None
    sales_ref: ExternalReference
    dropped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LeadMatch:
    customer_id: str
    matched_on: str


@dataclass(frozen=True, slots=True)
class LeadOutcome:
    customer_id: str
    outcome: str  # CREATED | ATTACHED | ALREADY_LINKED
    matched_on: str | None
    dropped: tuple[str, ...] = ()


class LeadMatcher(Protocol):
    async def match(self, candidate: LeadCandidate, uow: UnitOfWork, store: IntegrationStore) -> LeadMatch | None:
        """The existing profile this lead belongs to, or None."""
        ...


class ExactKeyMatcher:
    """The lead's SALES reference, then its tax id, then its e-mail (of the profile or of a contact)."""

    async def match(self, candidate: LeadCandidate, uow: UnitOfWork, store: IntegrationStore) -> LeadMatch | None:
        owner = await uow.customers.owner_of_external_ref(candidate.sales_ref)
        if owner is not None:
            return LeadMatch(owner, "externalRef")
        if candidate.tax_id is not None and candidate.tax_id.invalid_reason is None:
            found = await store.customers_with_key("TAX_ID", [candidate.tax_id.value])
            if found:
                return LeadMatch(found[0], "taxId")
        if candidate.email is not None:
            found = await store.customers_with_key("EMAIL", [candidate.email.key])
            if found:
                return LeadMatch(found[0], "email")
        return None


def default_lead_matchers() -> list[LeadMatcher]:
    """The chain used by ``customer360 consume``: exact keys, then the probabilistic duplicate check."""
    # Imported here: lead_matching builds on this module's types.
    from customer360.application.lead_matching import LikelyDuplicateMatcher

    return [ExactKeyMatcher(), LikelyDuplicateMatcher()]


def lead_candidate(lead: LeadCreated, *, region: str | None) -> LeadCandidate:
    dropped: list[str] = []
    company = clean_optional_text(lead.company_name, "companyName")
    given = clean_optional_text(lead.given_name, "contactGivenName", max_length=100)
    family = clean_optional_text(lead.family_name, "contactFamilyName", max_length=100)
    if not (company or given or family):
        raise InvalidValue("companyName", "a lead needs a company name or a contact name")
    email = _optional(dropped, "email", lambda: EmailAddress.parse(lead.email or "", "email")) if lead.email else None
    phone = None
    if lead.phone:
        phone_region = lead.country or region
        phone = _optional(
            dropped, "phone", lambda: PhoneNumber.parse(lead.phone or "", "phone", default_region=phone_region)
        )
    tax_id = None
    if lead.tax_id:
        tax_id = _optional(dropped, "taxId", lambda: _tax_id(lead.tax_id or "", lead.country))
    return LeadCandidate(
        lead=lead,
        kind=CustomerKind.ORGANIZATION if company else CustomerKind.PERSON,
        name=company,
        given_name=given,
        family_name=family,
        email=email,
        phone=phone,
        tax_id=tax_id,
        sales_ref=ExternalReference.create("leadId", source_system=SALES, external_id=lead.lead_id),
        dropped=tuple(dropped),
    )


class LeadIntake:
    """The LeadCreatedEvent use case; ``matchers`` is the seam described in the module docstring."""

    def __init__(self, matchers: Sequence[LeadMatcher] | None = None) -> None:
        self._matchers = list(matchers) if matchers is not None else default_lead_matchers()

    async def __call__(
        self, lead: LeadCreated, uow: UnitOfWork, env: HandlerEnv, store: IntegrationStore
    ) -> LeadOutcome:
        linked = await store.lead_owner(lead.lead_id)
        if linked is not None:
            return LeadOutcome(linked, "ALREADY_LINKED", "leadId")
        candidate = lead_candidate(lead, region=env.phone_region)
        match = None
        for matcher in self._matchers:
            match = await matcher.match(candidate, uow, store)
            if match is not None:
                break
        if match is None:
            created = await create_customer_profile(_new_profile(candidate), uow, env)
            outcome = LeadOutcome(created.customer_id, "CREATED", None, candidate.dropped)
        else:
            customer_id = await _attach(candidate, match.customer_id, uow, env)
            outcome = LeadOutcome(customer_id, "ATTACHED", match.matched_on, candidate.dropped)
        await store.link_lead(
            LeadLink(
                lead_id=candidate.sales_ref.external_id,
                customer_id=outcome.customer_id,
                outcome=outcome.outcome,
                matched_on=outcome.matched_on,
                lead_source=lead.source[:40],
                event_id=lead.event_id,
                linked_at=env.clock.now(),
            )
        )
        return outcome


def _new_profile(candidate: LeadCandidate) -> CreateCustomerProfile:
    """The lead's values as they came (each one validated when the candidate was made)."""
    lead = candidate.lead
    emails = (EmailInput(address=lead.email),) if candidate.email and lead.email else ()
    phones = (PhoneInput(number=lead.phone, country=lead.country),) if candidate.phone and lead.phone else ()
    tax_ids: tuple[TaxIdInput, ...] = ()
    if candidate.tax_id is not None and lead.tax_id:
        tax_ids = (TaxIdInput(country=candidate.tax_id.country, value=lead.tax_id.strip().upper()),)
    sales_ref = ExternalRefInput(source_system=SALES, external_id=lead.lead_id)
    profile = ProfileInput(kind=candidate.kind, tax_ids=tax_ids, external_refs=(sales_ref,))
    if candidate.kind is CustomerKind.PERSON:
        person = replace(
            profile, given_name=candidate.given_name, family_name=candidate.family_name, emails=emails, phones=phones
        )
        return CreateCustomerProfile(attributes=person, status="ACTIVE")
    organization = replace(profile, name=candidate.name)
    if not (candidate.given_name or candidate.family_name):
        reachable = replace(organization, emails=emails, phones=phones)
        return CreateCustomerProfile(attributes=reachable, status="ACTIVE")
    # The contact person becomes the primary SALES contact of the new organisation.
    contact = ContactInput(
        given_name=candidate.given_name,
        family_name=candidate.family_name,
        emails=emails,
        phones=phones,
        roles=(ContactRole.SALES,),
        primary_roles=(ContactRole.SALES,),
    )
    return CreateCustomerProfile(attributes=organization, status="ACTIVE", contacts=(contact,))


async def _attach(candidate: LeadCandidate, customer_id: str, uow: UnitOfWork, env: HandlerEnv) -> str:
    """Link to the golden record; it gets the lead's SALES reference unless it has one already."""
    profile = await survivor(uow, customer_id, for_update=True)
    refs = profile.attributes.external_refs
    if not any(ref.source_system == SALES for ref in refs):
        kept = tuple(ExternalRefInput(source_system=r.source_system, external_id=r.external_id) for r in refs)
        sales_ref = ExternalRefInput(source_system=SALES, external_id=candidate.lead.lead_id)
        patch = ProfileInput(external_refs=(*kept, sales_ref))
        await update_customer_profile(UpdateCustomerProfile(profile.id, patch), uow, env)
    return profile.id


def _optional(dropped: list[str], field: str, parse: Callable[[], T]) -> T | None:
    try:
        return parse()
    except InvalidValue:
        dropped.append(field)
        return None


def _tax_id(value: str, country: str | None) -> TaxId:
    compact = value.strip().upper()
    prefix = compact[:2]
    # A VAT number usually starts with its country ("DE123456789"); otherwise the lead's country says it.
    country_code = prefix if prefix.isalpha() else country
    if not country_code:
        raise InvalidValue("taxId", "needs a country prefix or the lead's country")
    return TaxId.parse("taxId", country=country_code, type=TaxIdType.VAT, value=compact)
