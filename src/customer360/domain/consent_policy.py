"""The seed's ConsentPolicyService: may we contact this customer, on this channel, for this purpose — and why.

The answer is a :class:`ConsentDecision`: allowed or not, a reason code, the record that decided and the
rule that applied. Default deny: no record means no.

1. An erased profile, or one flagged because its contact points were suppressed after an erasure, is
   never contactable (``CUSTOMER_ERASED``, ``SUPPRESSED``) until a steward clears the flag.
2. The deciding record is the latest statement (``domain.consent.precedence``) about the channel and
   purpose, among the channel-wide records and — when the question names a contact point — the records
   about that point. A question without a contact point is answered by channel-wide records only: a grant
   for one address does not speak for the customer's other addresses.
3. Its status: REVOKED → ``REVOKED`` (``OBJECTED`` when it withdrew a legitimate interest, GDPR Art. 21);
   EXPIRED, or a grant past its ``expires_at`` → ``EXPIRED``; PENDING → ``PENDING_CONFIRMATION`` (double
   opt-in not confirmed yet).
4. A grant counts only when the purpose's policy accepts its legal basis (``NOT_COVERED`` otherwise):
   consent → ``GRANTED``; contract, legitimate interest or legal obligation → ``LEGAL_BASIS``.
5. The customer's communication preferences may still opt the channel out for this purpose
   (``CHANNEL_OPTED_OUT``): the entry for (channel, topic = purpose) decides, else the entry for
   (channel, ``ALL``), else nothing is opted out.

Quiet hours and the frequency cap do not change ``allowed``: they come with the answer (``allowed_now``,
``next_allowed_at`` in the customer's time zone, the cap for the sender to enforce).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from customer360.domain.consent import (
    CaptureSource,
    ConsentRecord,
    ConsentStatus,
    ContactPoint,
    LegalBasis,
    precedence,
)
from customer360.domain.contact_window import quiet_period_end
from customer360.domain.errors import BusinessRuleViolation, InvalidValue
from customer360.domain.values import Channel, CommunicationPreferences, FrequencyCap, QuietHours

ALL_TOPICS = "ALL"
DEFAULT_TIME_ZONE = "UTC"


class Reason(StrEnum):
    GRANTED = "GRANTED"
    LEGAL_BASIS = "LEGAL_BASIS"
    NO_RECORD = "NO_RECORD"
    REVOKED = "REVOKED"
    OBJECTED = "OBJECTED"
    EXPIRED = "EXPIRED"
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
    NOT_COVERED = "NOT_COVERED"
    CHANNEL_OPTED_OUT = "CHANNEL_OPTED_OUT"
    SUPPRESSED = "SUPPRESSED"
    CUSTOMER_ERASED = "CUSTOMER_ERASED"


ALLOWING = frozenset({Reason.GRANTED, Reason.LEGAL_BASIS})


class ConfirmationRefused(BusinessRuleViolation):
    """A double opt-in token that is UNKNOWN, already USED, EXPIRED, or whose pending grant was SUPERSEDED
    by a later statement of the customer."""

    def __init__(self, reason: str) -> None:
        super().__init__("CONFIRMATION_REFUSED", f"The confirmation token cannot be used: {reason}", {"reason": reason})
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PurposePolicy:
    """A tenant's rules for one purpose: which legal bases cover it, how long a grant lasts, and which
    capture sources need the customer to confirm (double opt-in)."""

    purpose: str
    legal_bases: frozenset[LegalBasis]
    grant_validity: timedelta | None = None
    double_opt_in_sources: frozenset[CaptureSource] = frozenset()

    @classmethod
    def create(
        cls,
        purpose: str,
        *,
        legal_bases: Iterable[LegalBasis],
        grant_validity_days: int | None,
        double_opt_in_sources: Iterable[CaptureSource],
    ) -> PurposePolicy:
        bases = frozenset(legal_bases)
        if not bases:
            raise InvalidValue("legalBases", "must name at least one legal basis")
        if grant_validity_days is not None and not 1 <= grant_validity_days <= 36_500:
            raise InvalidValue("grantValidityDays", "must be between 1 and 36500")
        sources = frozenset(double_opt_in_sources)
        if CaptureSource.MERGE in sources:
            raise InvalidValue("doubleOptInSources", "MERGE records are derived, never captured")
        validity = None if grant_validity_days is None else timedelta(days=grant_validity_days)
        return cls(purpose, bases, validity, sources)

    def allows(self, basis: LegalBasis) -> bool:
        return basis in self.legal_bases

    def needs_double_opt_in(self, source: CaptureSource) -> bool:
        return source in self.double_opt_in_sources

    def expiry_for(self, effective_at: datetime) -> datetime | None:
        return None if self.grant_validity is None else effective_at + self.grant_validity


_CONSENT_ONLY = frozenset({LegalBasis.CONSENT})
_WEB = frozenset({CaptureSource.WEB})

#: The service's defaults; a tenant's stored policy for a purpose replaces its default as a whole.
DEFAULT_POLICIES: Mapping[str, PurposePolicy] = {
    "MARKETING": PurposePolicy(
        "MARKETING", frozenset({LegalBasis.CONSENT, LegalBasis.LEGITIMATE_INTEREST}), None, _WEB
    ),
    "SERVICE": PurposePolicy(
        "SERVICE",
        frozenset(
            {LegalBasis.CONTRACT, LegalBasis.LEGITIMATE_INTEREST, LegalBasis.CONSENT, LegalBasis.LEGAL_OBLIGATION}
        ),
    ),
    "PROFILING": PurposePolicy("PROFILING", _CONSENT_ONLY, None, _WEB),
    "THIRD_PARTY_SHARING": PurposePolicy("THIRD_PARTY_SHARING", _CONSENT_ONLY, None, _WEB),
}


def default_policy(purpose: str) -> PurposePolicy:
    """The default of a purpose; purposes without one (a tenant's NEWSLETTER…) need consent, and web
    captures of them need double opt-in."""
    return DEFAULT_POLICIES.get(purpose) or PurposePolicy(purpose, _CONSENT_ONLY, None, _WEB)


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """What the decision needs to know about the customer besides the consent records."""

    # The profile's preferences first, then (for a contact as contact point) the contact's.
    preferences: tuple[CommunicationPreferences, ...] = ()
    time_zone: str | None = None
    erased: bool = False
    suppressed: bool = False


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    allowed: bool
    reason: Reason
    rule: str
    deciding_record: ConsentRecord | None
    allowed_now: bool
    next_allowed_at: datetime | None
    time_zone: str
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    checked_at: datetime | None = field(default=None, compare=False)


def deciding_record(
    records: Iterable[ConsentRecord], channel: Channel, purpose: str, contact_point: ContactPoint | None
) -> ConsentRecord | None:
    """The latest statement about (channel, purpose), channel-wide or about ``contact_point``."""
    candidates = [
        r
        for r in records
        if r.channel is channel
        and r.purpose == purpose
        and (r.contact_point is None or (contact_point is not None and r.contact_point == contact_point))
    ]
    return max(candidates, key=precedence, default=None)


def channel_opted_out(preferences: CommunicationPreferences, channel: Channel, topic: str) -> bool:
    """The entry for (channel, topic) decides; else the one for (channel, ALL); else not opted out."""
    by_topic = {p.topic: p.opt_in for p in preferences.channels if p.channel is channel}
    if topic in by_topic:
        return not by_topic[topic]
    if ALL_TOPICS in by_topic:
        return not by_topic[ALL_TOPICS]
    return False


def _verdict(record: ConsentRecord | None, policy: PurposePolicy, now: datetime) -> tuple[Reason, str]:
    if record is None:
        return Reason.NO_RECORD, "default deny: no consent record for this channel and purpose"
    if record.status is ConsentStatus.REVOKED:
        if record.legal_basis is LegalBasis.LEGITIMATE_INTEREST:
            return Reason.OBJECTED, "an objection ends processing based on legitimate interest"
        return Reason.REVOKED, "the latest statement is a revocation"
    if record.status is ConsentStatus.EXPIRED or record.expired_at(now):
        return Reason.EXPIRED, "an expired grant counts as not given"
    if record.status is ConsentStatus.PENDING:
        return Reason.PENDING_CONFIRMATION, "double opt-in: the grant counts once the customer confirms it"
    bases = ", ".join(sorted(b.value for b in policy.legal_bases))
    if not policy.allows(record.legal_basis):
        return Reason.NOT_COVERED, f"purpose {policy.purpose} is covered by {bases} only"
    if record.legal_basis is LegalBasis.CONSENT:
        return Reason.GRANTED, "the latest statement is a grant"
    return Reason.LEGAL_BASIS, f"purpose {policy.purpose} is covered by {bases}"


def decide(
    records: Iterable[ConsentRecord],
    *,
    channel: Channel,
    purpose: str,
    contact_point: ContactPoint | None,
    now: datetime,
    policy: PurposePolicy,
    customer: CustomerContext,
) -> ConsentDecision:
    time_zone = customer.time_zone or DEFAULT_TIME_ZONE
    quiet = next((p.quiet_hours for p in reversed(customer.preferences) if p.quiet_hours), None)
    cap = next((p.frequency_cap for p in reversed(customer.preferences) if p.frequency_cap), None)
    record = deciding_record(records, channel, purpose, contact_point)
    if customer.erased:
        reason, rule, record = Reason.CUSTOMER_ERASED, "the customer's personal data was erased", None
    elif customer.suppressed:
        reason, rule = Reason.SUPPRESSED, "a contact point of this profile belongs to an erased customer"
    else:
        reason, rule = _verdict(record, policy, now)
        if reason in ALLOWING and any(channel_opted_out(p, channel, purpose) for p in customer.preferences):
            reason, rule = Reason.CHANNEL_OPTED_OUT, "the communication preferences opt this channel out"
    allowed = reason in ALLOWING
    # Letters have no quiet hours.
    quiet_until = quiet_period_end(now, quiet, time_zone) if allowed and channel is not Channel.POST else None
    return ConsentDecision(
        allowed=allowed,
        reason=reason,
        rule=rule,
        deciding_record=record,
        allowed_now=allowed and quiet_until is None,
        next_allowed_at=(quiet_until or now) if allowed else None,
        time_zone=time_zone,
        quiet_hours=quiet,
        frequency_cap=cap,
        checked_at=now,
    )
