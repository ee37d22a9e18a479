"""Use cases that change a customer profile and its contacts (the seed's Create/UpdateCustomerProfile).

Handlers load aggregates through the unit of work, call their methods and return what the caller needs;
they never commit — the executor's unit of work commits once, with the audit and outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from customer360.application.consent_workflows import respect_consent
from customer360.application.duplicates import DuplicateCheck, check_on_create
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ContactInput, ProfileInput
from customer360.application.ports import UnitOfWork
from customer360.application.privacy import flag_if_suppressed
from customer360.application.profile_input import (
    parse_contact,
    parse_contacts,
    parse_profile,
    patched_contact,
    patched_profile,
)
from customer360.application.queries import Answer, Document
from customer360.domain.consent import ContactPoint, ContactPointKind
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import CustomerNotFound, DuplicateExternalReference, InvalidValue
from customer360.domain.ids import CONTACT_PREFIX, CUSTOMER_PREFIX
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.values import CustomerStatus


@dataclass(frozen=True, slots=True)
class CreateCustomerProfile:
    attributes: ProfileInput
    status: str = "ACTIVE"
    contacts: tuple[ContactInput, ...] = ()
    # The real-time duplicate check (POST /customers asks for it; imports and consumers do not).
    duplicate_check: DuplicateCheck | None = None


@dataclass(frozen=True, slots=True)
class UpdateCustomerProfile:
    customer_id: str
    patch: ProfileInput
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeCustomerStatus:
    customer_id: str
    status: str
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class AddContact:
    customer_id: str
    attributes: ContactInput
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateContact:
    customer_id: str
    contact_id: str
    patch: ContactInput
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RemoveContact:
    customer_id: str
    contact_id: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    customer_id: str
    version: int
    contact_id: str | None = None
    changed_fields: list[str] = field(default_factory=list)


async def _check_external_refs(uow: UnitOfWork, profile_id: str | None, attributes: ProfileAttributes) -> None:
    for ref in attributes.external_refs:
        owner = await uow.customers.owner_of_external_ref(ref)
        if owner is not None and owner != profile_id:
            raise DuplicateExternalReference(ref.source_system, owner)


def new_profile(cmd: CreateCustomerProfile, env: HandlerEnv) -> CustomerProfile:
    """The profile a create makes, validated and with its creation event; nothing is stored or looked up.
    The bulk import builds its profiles with this too, so both apply the same rules."""
    now = env.clock.now()
    attributes = parse_profile(cmd.attributes, region=env.phone_region, today=now.date())
    contacts = [(env.new_id(CONTACT_PREFIX), c) for c in parse_contacts(cmd.contacts, region=env.phone_region)]
    return CustomerProfile.create(
        id=env.new_id(CUSTOMER_PREFIX),
        tenant_id=env.context.tenant_id,
        attributes=attributes,
        status=_status(cmd.status),
        contacts=contacts,
        actor=env.context.actor,
        now=now,
    )


async def create_customer_profile(cmd: CreateCustomerProfile, uow: UnitOfWork, env: HandlerEnv) -> ProfileChanged:
    profile = new_profile(cmd, env)
    await _check_external_refs(uow, None, profile.attributes)
    await uow.customers.add(profile)
    await flag_if_suppressed(profile, uow, env)
    if cmd.duplicate_check is not None:
        await check_on_create(profile, cmd.duplicate_check, uow, env)
    return ProfileChanged(profile.id, profile.version, profile.primary_contact_id)


async def update_customer_profile(cmd: UpdateCustomerProfile, uow: UnitOfWork, env: HandlerEnv) -> ProfileChanged:
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_is_writable()
    profile.check_version(cmd.expected_version)
    now = env.clock.now()
    attributes = patched_profile(profile.attributes, cmd.patch, region=env.phone_region, today=now.date())
    await _check_external_refs(uow, profile.id, attributes)
    await respect_consent(uow, env, profile.id, profile.attributes.communication, attributes.communication)
    profile.revise(attributes, actor=env.context.actor, now=now, source=env.context.source)
    return ProfileChanged(profile.id, profile.version, changed_fields=_changed_fields(profile))


async def change_customer_status(cmd: ChangeCustomerStatus, uow: UnitOfWork, env: HandlerEnv) -> ProfileChanged:
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_version(cmd.expected_version)
    profile.change_status(
        _status(cmd.status), actor=env.context.actor, now=env.clock.now(), reason=cmd.reason, source=env.context.source
    )
    return ProfileChanged(profile.id, profile.version, changed_fields=_changed_fields(profile))


async def add_contact(cmd: AddContact, uow: UnitOfWork, env: HandlerEnv) -> ProfileChanged:
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_version(cmd.expected_version)
    attributes = parse_contact(cmd.attributes, region=env.phone_region)
    contact = profile.add_contact(
        env.new_id(CONTACT_PREFIX), attributes, actor=env.context.actor, now=env.clock.now(), source=env.context.source
    )
    return ProfileChanged(profile.id, profile.version, contact.id, _changed_fields(profile))


async def update_contact(cmd: UpdateContact, uow: UnitOfWork, env: HandlerEnv) -> ProfileChanged:
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_version(cmd.expected_version)
    current = profile.contact(cmd.contact_id).attributes
    attributes = patched_contact(current, cmd.patch, region=env.phone_region)
    point = ContactPoint(ContactPointKind.CONTACT, cmd.contact_id)
    await respect_consent(
        uow,
        env,
        profile.id,
        current.communication,
        attributes.communication,
        contact_point=point,
        field="communication",
    )
    profile.update_contact(
        cmd.contact_id, attributes, actor=env.context.actor, now=env.clock.now(), source=env.context.source
    )
    return ProfileChanged(profile.id, profile.version, cmd.contact_id, _changed_fields(profile))


async def remove_contact(cmd: RemoveContact, uow: UnitOfWork, env: HandlerEnv) -> ProfileChanged:
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_version(cmd.expected_version)
    profile.remove_contact(cmd.contact_id, actor=env.context.actor, now=env.clock.now(), source=env.context.source)
    return ProfileChanged(profile.id, profile.version, cmd.contact_id, _changed_fields(profile))


def _status(value: str) -> CustomerStatus:
    try:
        return CustomerStatus(value)
    except ValueError:
        raise InvalidValue("status", "must be ACTIVE, INACTIVE or ON_HOLD") from None


def _changed_fields(profile: CustomerProfile) -> list[str]:
    fields: set[str] = set()
    for event in profile.events:
        fields.update(getattr(event, "changed_fields", []))
    return sorted(fields)


async def profile_documents(uow: UnitOfWork, *customer_ids: str) -> dict[str, Document]:
    """Profiles (with their contacts) as the command left them; CustomerNotFound if one is gone."""
    found = {}
    for customer_id in customer_ids:
        document = await uow.views.profile(customer_id)
        if document is None:
            raise CustomerNotFound(customer_id)
        found[customer_id] = document
    return found


async def profile_answer(result: ProfileChanged, uow: UnitOfWork) -> Answer[ProfileChanged]:
    """What a profile or contact command answers with: the profile as it left it."""
    return Answer(result, await profile_documents(uow, result.customer_id))
