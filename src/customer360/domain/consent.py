"""The ConsentRecord aggregate and the rule that decides the current consent.

Consent is an append-only history: records are never changed, a new record supersedes an older one.
For one (channel, purpose, contact point) the current state is the record with the latest effective
time; on a tie a revocation wins, so a revocation can never be undone by a grant of the same moment.
Without any record the answer is "no consent". A grant may carry ``expires_at``: from then on it counts as
expired (``domain.consent_policy``), and the expiry sweep appends an EXPIRED record to say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from customer360.domain.errors import InvalidValue
from customer360.domain.events import ConsentUpdated, DomainEvent, FieldChange
from customer360.domain.values import Channel

# Clocks of capturing systems drift; a capture time a little ahead of ours is not an error.
ALLOWED_CLOCK_SKEW = timedelta(minutes=5)


class ConsentStatus(StrEnum):
    GRANTED = "GRANTED"
    REVOKED = "REVOKED"
    PENDING = "PENDING"
    EXPIRED = "EXPIRED"


# A pending grant keeps the expiry it was captured with, for the grant that confirms it.
_EXPIRING = frozenset({ConsentStatus.GRANTED, ConsentStatus.PENDING})


class LegalBasis(StrEnum):
    CONSENT = "CONSENT"
    CONTRACT = "CONTRACT"
    LEGITIMATE_INTEREST = "LEGITIMATE_INTEREST"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"


class CaptureSource(StrEnum):
    WEB = "WEB"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    PAPER = "PAPER"
    IN_PERSON = "IN_PERSON"
    IMPORT = "IMPORT"
    API = "API"
    # Written only by the merge workflow (domain.merge_consent); callers cannot capture with it.
    MERGE = "MERGE"


class ContactPointKind(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CONTACT = "CONTACT"


_CHANNEL_POINTS = {
    Channel.EMAIL: {ContactPointKind.EMAIL, ContactPointKind.CONTACT},
    Channel.SMS: {ContactPointKind.PHONE, ContactPointKind.CONTACT},
    Channel.CALL: {ContactPointKind.PHONE, ContactPointKind.CONTACT},
    Channel.POST: {ContactPointKind.CONTACT},
}


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """A specific address the consent is about; ``None`` on a record means every point of the channel."""

    kind: ContactPointKind
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class ConsentEvidence:
    """Who captured the consent, when and how; web captures keep only keyed hashes of IP and user agent."""

    captured_by: str | None = None
    captured_at: datetime | None = None
    text: str | None = None
    ip_hash: str | None = None
    user_agent_hash: str | None = None


@dataclass(slots=True)
class ConsentRecord:
    id: str
    customer_id: str
    channel: Channel
    purpose: str
    status: ConsentStatus
    contact_point: ContactPoint | None
    legal_basis: LegalBasis
    source: CaptureSource
    policy_version: str | None
    evidence: ConsentEvidence
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str
    # A grant stops counting at this moment (given with the grant, or from the purpose's policy).
    expires_at: datetime | None = None
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def capture(
        cls,
        *,
        id: str,
        customer_id: str,
        channel: Channel,
        purpose: str,
        status: ConsentStatus,
        contact_point: ContactPoint | None,
        legal_basis: LegalBasis,
        source: CaptureSource,
        policy_version: str | None,
        evidence: ConsentEvidence,
        actor: str,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ConsentRecord:
        if contact_point is not None and contact_point.kind not in _CHANNEL_POINTS[channel]:
            raise InvalidValue("contactPoint", f"a {contact_point.kind.value} cannot receive {channel.value}")
        if evidence.captured_at is not None and evidence.captured_at > now + ALLOWED_CLOCK_SKEW:
            raise InvalidValue("evidence.capturedAt", "must not be in the future")
        effective_at = evidence.captured_at or now
        if expires_at is not None and (status not in _EXPIRING or expires_at <= effective_at):
            raise InvalidValue("expiresAt", "applies to grants only and must be after the capture time")
        record = cls(
            id=id,
            customer_id=customer_id,
            channel=channel,
            purpose=purpose,
            status=status,
            contact_point=contact_point,
            legal_basis=legal_basis,
            source=source,
            policy_version=policy_version,
            evidence=evidence,
            effective_at=effective_at,
            recorded_at=now,
            recorded_by=actor,
            expires_at=expires_at,
        )
        record.events.append(
            ConsentUpdated(
                customer_id=customer_id,
                occurred_at=now,
                actor=actor,
                changes=(FieldChange(f"consent[{record.state_key}]", None, status.value),),
                consent_id=id,
                channel=channel.value,
                purpose=purpose,
                status=status.value,
                contact_point=contact_point.key if contact_point else None,
            )
        )
        return record

    def restate(
        self,
        *,
        id: str,
        customer_id: str,
        status: ConsentStatus,
        source: CaptureSource,
        evidence: ConsentEvidence,
        actor: str,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ConsentRecord:
        """A new record about this one's statement (channel, purpose, contact point, legal basis, policy
        version): its confirmation, its expiry, or its repetition on a merge's survivor."""
        return ConsentRecord.capture(
            id=id,
            customer_id=customer_id,
            channel=self.channel,
            purpose=self.purpose,
            status=status,
            contact_point=self.contact_point,
            legal_basis=self.legal_basis,
            source=source,
            policy_version=self.policy_version,
            evidence=evidence,
            actor=actor,
            now=now,
            expires_at=expires_at,
        )

    @property
    def state_key(self) -> str:
        point = self.contact_point.key if self.contact_point else "*"
        return f"{self.channel.value}/{self.purpose}/{point}"

    def expired_at(self, now: datetime) -> bool:
        """A grant whose ``expires_at`` has passed no longer counts, swept or not."""
        return self.status is ConsentStatus.GRANTED and self.expires_at is not None and self.expires_at <= now


# On equal effective times the more restrictive statement wins: a revocation above everything.
# The bulk consent check (infrastructure/persistence/consent_check.py) spells the same order in SQL.
TIE_RANK = {ConsentStatus.GRANTED: 0, ConsentStatus.PENDING: 1, ConsentStatus.EXPIRED: 2, ConsentStatus.REVOKED: 3}


def precedence(record: ConsentRecord) -> tuple[datetime, int, datetime, str]:
    """The order of statements about one key: latest effective time, then the restrictive one, then the
    one recorded last, then the higher id (so that the order is total and SQL can repeat it)."""
    return (record.effective_at, TIE_RANK[record.status], record.recorded_at, record.id)


def current_consents(records: Iterable[ConsentRecord]) -> list[ConsentRecord]:
    """The deciding record for each (channel, purpose, contact point), ordered by that key."""
    winners: dict[str, ConsentRecord] = {}
    for record in records:
        held = winners.get(record.state_key)
        if held is None or precedence(record) > precedence(held):
            winners[record.state_key] = record
    return [winners[key] for key in sorted(winners)]
