"""The ConsentRecord aggregate and the rule that decides the current consent.

Consent is an append-only history: records are never changed, a new record supersedes an older one.
For one (channel, purpose, contact point) the current state is the record with the latest effective
time; on a tie a revocation wins, so a revocation can never be undone by a grant of the same moment.
Without any record the answer is "no consent".
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
    ) -> ConsentRecord:
        if contact_point is not None and contact_point.kind not in _CHANNEL_POINTS[channel]:
            raise InvalidValue("contactPoint", f"a {contact_point.kind.value} cannot receive {channel.value}")
        if evidence.captured_at is not None and evidence.captured_at > now + ALLOWED_CLOCK_SKEW:
            raise InvalidValue("evidence.capturedAt", "must not be in the future")
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
            effective_at=evidence.captured_at or now,
            recorded_at=now,
            recorded_by=actor,
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

    @property
    def state_key(self) -> str:
        point = self.contact_point.key if self.contact_point else "*"
        return f"{self.channel.value}/{self.purpose}/{point}"


def _precedence(record: ConsentRecord) -> tuple[datetime, int, datetime]:
    return (record.effective_at, 1 if record.status is ConsentStatus.REVOKED else 0, record.recorded_at)


def current_consents(records: Iterable[ConsentRecord]) -> list[ConsentRecord]:
    """The deciding record for each (channel, purpose, contact point), ordered by that key."""
    winners: dict[str, ConsentRecord] = {}
    for record in records:
        held = winners.get(record.state_key)
        if held is None or _precedence(record) > _precedence(held):
            winners[record.state_key] = record
    return [winners[key] for key in sorted(winners)]
