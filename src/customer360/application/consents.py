"""Use cases of consent (the seed's UpdateConsent): append a record to the customer's consent history.

The purpose's policy (``uow.consent_rules``) decides what a capture becomes: a grant whose legal basis
the purpose does not accept is refused; a grant from a source that needs double opt-in is recorded
PENDING with a single-use confirmation token (only its hash is stored; the token is answered once); a
grant without ``expiresAt`` gets the policy's validity, if it has one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from customer360.application.consent_workflows import token_hash
from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.application.privacy_ports import Confirmation
from customer360.application.queries import Answer
from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    ContactPoint,
    ContactPointKind,
    LegalBasis,
)
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import BusinessRuleViolation, InvalidValue
from customer360.domain.ids import CONSENT_PREFIX, CONTACT_PREFIX, is_valid_id
from customer360.domain.values import Channel, EmailAddress, PhoneNumber, clean_optional_text, topic_code


@dataclass(frozen=True, slots=True)
class RecordConsent:
    customer_id: str
    channel: str
    status: str
    purpose: str = "MARKETING"
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_id: str | None = None
    legal_basis: str = "CONSENT"
    source: str = "API"
    policy_version: str | None = None
    captured_by: str | None = None
    captured_at: datetime | None = None
    evidence_text: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    expires_at: datetime | None = None
    # How long a double opt-in token stays usable (CONSENT_CONFIRMATION_TTL_HOURS).
    confirmation_ttl: timedelta = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class ConsentRecorded:
    consent_id: str
    customer_id: str
    status: str
    # Double opt-in: the token to send the customer (answered once, stored only as a hash).
    confirmation_token: str | None = None
    confirmation_expires_at: datetime | None = None


# Only these can be captured through the API; PENDING and EXPIRED are set by the consent workflows.
_CAPTURABLE = frozenset({ConsentStatus.GRANTED, ConsentStatus.REVOKED})


async def record_consent(cmd: RecordConsent, uow: UnitOfWork, env: HandlerEnv) -> ConsentRecorded:
    # The lock orders consent changes of one customer and keeps a merge from moving it meanwhile.
    profile = await uow.customers.get_for_update(cmd.customer_id)
    profile.check_is_writable()
    status = ConsentStatus(cmd.status)
    if status not in _CAPTURABLE:
        raise InvalidValue("status", "must be GRANTED or REVOKED")
    source = CaptureSource(cmd.source)
    if source is CaptureSource.MERGE:
        raise InvalidValue("source", "MERGE is reserved for records the merge workflow derives")
    point = _contact_point(cmd, profile, env)
    purpose = topic_code(cmd.purpose, "purpose")
    basis = LegalBasis(cmd.legal_basis)
    policy = await uow.consent_rules.policy(purpose)
    if status is ConsentStatus.GRANTED and not policy.allows(basis):
        raise BusinessRuleViolation(
            "LEGAL_BASIS_NOT_ALLOWED",
            f"Purpose {purpose} is not covered by {basis.value}",
            {"field": "legalBasis", "allowed": sorted(b.value for b in policy.legal_bases)},
        )
    now = env.clock.now()
    pending = status is ConsentStatus.GRANTED and policy.needs_double_opt_in(source)
    expires_at = cmd.expires_at
    if status is ConsentStatus.GRANTED and expires_at is None and not pending:
        expires_at = policy.expiry_for(cmd.captured_at or now)
    record = ConsentRecord.capture(
        id=env.new_id(CONSENT_PREFIX),
        customer_id=profile.id,
        channel=Channel(cmd.channel),
        purpose=purpose,
        status=ConsentStatus.PENDING if pending else status,
        contact_point=point,
        legal_basis=basis,
        source=source,
        policy_version=clean_optional_text(cmd.policy_version, "policyVersion", max_length=50),
        evidence=ConsentEvidence(
            captured_by=clean_optional_text(cmd.captured_by, "evidence.capturedBy", max_length=100),
            captured_at=cmd.captured_at,
            text=clean_optional_text(cmd.evidence_text, "evidence.text", max_length=2000),
            ip_hash=env.hasher(cmd.ip_address) if cmd.ip_address else None,
            user_agent_hash=env.hasher(cmd.user_agent) if cmd.user_agent else None,
        ),
        actor=env.context.actor,
        now=now,
        expires_at=expires_at,
    )
    await uow.consents.add(record)
    if not pending:
        return ConsentRecorded(record.id, profile.id, record.status.value)
    token = secrets.token_urlsafe(32)
    confirmation = Confirmation(token_hash(token), record.id, profile.id, now, now + cmd.confirmation_ttl)
    await uow.consent_rules.add_confirmation(confirmation)
    return ConsentRecorded(record.id, profile.id, record.status.value, token, confirmation.expires_at)


def _contact_point(cmd: RecordConsent, profile: CustomerProfile, env: HandlerEnv) -> ContactPoint | None:
    given = [v for v in (cmd.contact_email, cmd.contact_phone, cmd.contact_id) if v is not None]
    if len(given) > 1:
        raise InvalidValue("contactPoint", "give at most one of email, phone or contactId")
    if cmd.contact_email is not None:
        key = EmailAddress.parse(cmd.contact_email, "contactPoint.email").key
        known = {e.key for e in profile.attributes.emails}
        known |= {e.key for c in profile.active_contacts for e in c.attributes.emails}
        _check_known(key in known, "email")
        return ContactPoint(ContactPointKind.EMAIL, key)
    if cmd.contact_phone is not None:
        e164 = PhoneNumber.parse(cmd.contact_phone, "contactPoint.phone", default_region=env.phone_region).e164
        known = {p.e164 for p in profile.attributes.phones}
        known |= {p.e164 for c in profile.active_contacts for p in c.attributes.phones}
        _check_known(e164 in known, "phone")
        return ContactPoint(ContactPointKind.PHONE, e164)
    if cmd.contact_id is not None:
        if not is_valid_id(CONTACT_PREFIX, cmd.contact_id):
            raise InvalidValue("contactPoint.contactId", "is not a contact id")
        profile.contact(cmd.contact_id)
        return ContactPoint(ContactPointKind.CONTACT, cmd.contact_id)
    return None


def _check_known(known: bool, what: str) -> None:
    if not known:
        raise BusinessRuleViolation(
            "UNKNOWN_CONTACT_POINT",
            f"The {what} is not one of the customer's or its contacts' contact points",
            {"field": f"contactPoint.{what}"},
        )


async def consent_answer(result: ConsentRecorded, uow: UnitOfWork) -> Answer[ConsentRecorded]:
    """What recording a consent answers with: the record written."""
    document = await uow.views.consent(result.consent_id)
    assert document is not None, "the record was written in this transaction"
    return Answer(result, {result.consent_id: document})
