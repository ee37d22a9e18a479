"""Consent workflows: double opt-in confirmation, expiry, and the tenant's purpose policies.

**Double opt-in.** A grant captured from a source the purpose's policy names (web forms, by default) is
recorded PENDING, with a single-use token whose SHA-256 only is stored (``consent_record`` handler). The
token's holder confirms it here: the pending record must still be the deciding one for its key, the token
unused and unexpired; the confirmation is a new GRANTED record that names the pending one in its
evidence (with the hashes of the confirming click's IP and user agent), so the history keeps both steps.

**Expiry.** A grant past its ``expires_at`` already counts as not given (``domain.consent_policy``). The
sweep records it: for each key whose deciding record is an expired grant it appends an EXPIRED record,
effective at the moment of expiry, and the ConsentUpdatedEvent with status EXPIRED goes out. The check
and the append happen under the customer's row lock, so a second (or concurrent) sweep changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.application.privacy_ports import StoredPolicy
from customer360.application.queries import Answer
from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentStatus,
    ContactPoint,
    LegalBasis,
    current_consents,
)
from customer360.domain.consent_guard import check_preferences_respect_consent, new_subscription_topics
from customer360.domain.consent_policy import ConfirmationRefused, PurposePolicy
from customer360.domain.ids import CONSENT_PREFIX
from customer360.domain.values import CommunicationPreferences, CustomerStatus, topic_code

EXPIRY_CAPTURER = "consent-expiry"
CONFIRMATION_CAPTURER = "double-opt-in"


def token_hash(token: str) -> str:
    """Tokens are 256 random bits: a plain SHA-256 is enough to make the stored value useless to a reader."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ConfirmConsent:
    token: str
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentConfirmed:
    consent_id: str
    customer_id: str
    pending_consent_id: str


async def confirm_consent(cmd: ConfirmConsent, uow: UnitOfWork, env: HandlerEnv) -> ConsentConfirmed:
    now = env.clock.now()
    digest = token_hash(cmd.token)
    confirmation = await uow.consent_rules.confirmation_for_update(digest)
    if confirmation is None:
        raise ConfirmationRefused("UNKNOWN")
    if confirmation.used_at is not None:
        raise ConfirmationRefused("USED")
    if confirmation.expires_at <= now:
        raise ConfirmationRefused("EXPIRED")
    pending = await uow.consent_rules.consent(confirmation.consent_id)
    if pending is None:
        raise ConfirmationRefused("UNKNOWN")
    # The record's owner now (a merge may have moved it to the survivor); an erased owner refuses.
    profile = await uow.customers.get_for_update(pending.customer_id)
    profile.check_is_writable()
    deciding = {r.state_key: r.id for r in current_consents(await uow.consents.for_customer(profile.id))}
    if deciding.get(pending.state_key) != pending.id:
        raise ConfirmationRefused("SUPERSEDED")
    policy = await uow.consent_rules.policy(pending.purpose)
    expires_at = pending.expires_at or policy.expiry_for(now)
    if expires_at is not None and expires_at <= now:
        raise ConfirmationRefused("EXPIRED")
    grant = pending.restate(
        id=env.new_id(CONSENT_PREFIX),
        customer_id=profile.id,
        status=ConsentStatus.GRANTED,
        source=pending.source,
        evidence=ConsentEvidence(
            captured_by=CONFIRMATION_CAPTURER,
            text=f"confirms {pending.id}",
            ip_hash=env.hasher(cmd.ip_address) if cmd.ip_address else None,
            user_agent_hash=env.hasher(cmd.user_agent) if cmd.user_agent else None,
        ),
        actor=env.context.actor,
        now=now,
        expires_at=expires_at,
    )
    await uow.consents.add(grant)
    await uow.consent_rules.mark_used(digest, now, grant.id)
    return ConsentConfirmed(grant.id, profile.id, pending.id)


@dataclass(frozen=True, slots=True)
class ExpireConsents:
    customer_id: str


async def expire_consents(cmd: ExpireConsents, uow: UnitOfWork, env: HandlerEnv) -> list[str]:
    """Append an EXPIRED record for every key of the customer decided by an expired grant; their ids."""
    profile = await uow.customers.get_for_update(cmd.customer_id)
    if profile.status in (CustomerStatus.MERGED, CustomerStatus.ERASED):
        return []  # a merged profile's records live on its survivor; an erased one is never contacted
    now = env.clock.now()
    appended = []
    for grant in current_consents(await uow.consents.for_customer(profile.id)):
        if not grant.expired_at(now):
            continue
        assert grant.expires_at is not None
        record = grant.restate(
            id=env.new_id(CONSENT_PREFIX),
            customer_id=profile.id,
            status=ConsentStatus.EXPIRED,
            source=grant.source,
            evidence=ConsentEvidence(
                captured_by=EXPIRY_CAPTURER, captured_at=grant.expires_at, text=f"expires {grant.id}"
            ),
            actor=env.context.actor,
            now=now,
        )
        await uow.consents.add(record)
        appended.append(record.id)
    return appended


@dataclass(frozen=True, slots=True)
class SetPurposePolicy:
    purpose: str
    legal_bases: Sequence[str]
    grant_validity_days: int | None
    double_opt_in_sources: Sequence[str]
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class PolicySaved:
    purpose: str
    version: int


async def set_purpose_policy(cmd: SetPurposePolicy, uow: UnitOfWork, env: HandlerEnv) -> PolicySaved:
    policy = PurposePolicy.create(
        topic_code(cmd.purpose, "purpose"),
        legal_bases=[LegalBasis(b) for b in cmd.legal_bases],
        grant_validity_days=cmd.grant_validity_days,
        double_opt_in_sources=[CaptureSource(s) for s in cmd.double_opt_in_sources],
    )
    version = await uow.consent_rules.save_policy(
        policy, expected_version=cmd.expected_version, actor=env.context.actor, now=env.clock.now()
    )
    return PolicySaved(policy.purpose, version)


async def respect_consent(
    uow: UnitOfWork,
    env: HandlerEnv,
    customer_id: str,
    before: CommunicationPreferences,
    after: CommunicationPreferences,
    *,
    contact_point: ContactPoint | None = None,
    field: str = "communication",
) -> None:
    """CONSENT_VIOLATION for a preference change that contradicts the customer's consent (consent_guard)."""
    if before == after:
        return
    policies = {topic: await uow.consent_rules.policy(topic) for topic in new_subscription_topics(before, after)}
    check_preferences_respect_consent(
        before,
        after,
        await uow.consents.for_customer(customer_id),
        policy_for=policies.__getitem__,
        contact_point=contact_point,
        now=env.clock.now(),
        field=field,
    )


async def confirmed_answer(result: ConsentConfirmed, uow: UnitOfWork) -> Answer[ConsentConfirmed]:
    """What a confirmation answers with: the GRANTED record it wrote."""
    document = await uow.views.consent(result.consent_id)
    assert document is not None, "the record was written in this transaction"
    return Answer(result, {result.consent_id: document})


async def policy_answer(result: PolicySaved, uow: UnitOfWork) -> StoredPolicy:
    """What setting a purpose policy answers with: the policy as stored (version, when and by whom)."""
    stored = {s.policy.purpose: s for s in await uow.consent_rules.stored_policies()}
    return stored[result.purpose]
