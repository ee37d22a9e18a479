"""The seed's ConsentPolicyService as a pure function: decide(records, …) → allowed, reason, record, rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    ContactPoint,
    ContactPointKind,
    LegalBasis,
)
from customer360.domain.consent_policy import (
    DEFAULT_POLICIES,
    ConsentDecision,
    CustomerContext,
    PurposePolicy,
    Reason,
    decide,
    default_policy,
)
from customer360.domain.contact_window import quiet_period_end
from customer360.domain.errors import InvalidValue
from customer360.domain.values import (
    Channel,
    ChannelPreference,
    CommunicationPreferences,
    FrequencyCap,
    FrequencyPeriod,
    QuietHours,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
EMAIL_A = ContactPoint(ContactPointKind.EMAIL, "a@example.com")


def record(
    status: ConsentStatus = ConsentStatus.GRANTED,
    *,
    at: datetime = NOW - timedelta(days=10),
    basis: LegalBasis = LegalBasis.CONSENT,
    point: ContactPoint | None = None,
    expires: datetime | None = None,
    channel: Channel = Channel.EMAIL,
    n: int = 1,
) -> ConsentRecord:
    return ConsentRecord.capture(
        id=f"CONS-{n:03d}",
        customer_id="CUST-1",
        channel=channel,
        purpose="MARKETING",
        status=status,
        contact_point=point,
        legal_basis=basis,
        source=CaptureSource.API,
        policy_version=None,
        evidence=ConsentEvidence(captured_at=at),
        actor="steward",
        now=NOW - timedelta(days=1),
        expires_at=expires,
    )


def ask(
    *records: ConsentRecord,
    point: ContactPoint | None = None,
    customer: CustomerContext | None = None,
    policy: PurposePolicy | None = None,
    channel: Channel = Channel.EMAIL,
    now: datetime = NOW,
) -> ConsentDecision:
    return decide(
        records,
        channel=channel,
        purpose="MARKETING",
        contact_point=point,
        now=now,
        policy=policy or default_policy("MARKETING"),
        customer=customer or CustomerContext(),
    )


def preferences(*entries: tuple[Channel, str, bool], **values: object) -> CommunicationPreferences:
    channels = tuple(ChannelPreference(channel, topic, opt_in) for channel, topic, opt_in in entries)
    return CommunicationPreferences(channels=channels, **values)  # type: ignore[arg-type]


class TestReasons:
    def test_no_record_is_a_default_deny(self) -> None:
        """Nothing recorded: not allowed, NO_RECORD, no deciding record."""
        decision = ask()
        assert (decision.allowed, decision.reason, decision.deciding_record) == (False, Reason.NO_RECORD, None)

    def test_a_consent_grant_allows(self) -> None:
        """A grant on the basis of consent: GRANTED, naming its record."""
        grant = record()
        decision = ask(grant)
        assert (True, Reason.GRANTED, grant) == (decision.allowed, decision.reason, decision.deciding_record)

    def test_a_later_revocation_denies(self) -> None:
        """A revocation after the grant: REVOKED."""
        decision = ask(record(n=1), record(ConsentStatus.REVOKED, at=NOW - timedelta(days=1), n=2))
        assert (decision.allowed, decision.reason) == (False, Reason.REVOKED)

    def test_a_revocation_wins_a_tie(self) -> None:
        """Grant and revocation of the same moment: the revocation decides."""
        revocation = record(ConsentStatus.REVOKED, n=1)
        assert revocation == ask(record(n=2), revocation).deciding_record

    def test_a_grant_past_its_expiry_counts_as_expired(self) -> None:
        """expiresAt in the past: EXPIRED, before any sweep recorded it."""
        decision = ask(record(expires=NOW - timedelta(seconds=1)))
        assert (decision.allowed, decision.reason) == (False, Reason.EXPIRED)

    def test_a_grant_before_its_expiry_allows(self) -> None:
        """expiresAt in the future: still GRANTED."""
        assert ask(record(expires=NOW + timedelta(seconds=1))).reason == Reason.GRANTED

    def test_an_expired_record_denies(self) -> None:
        """The sweep's EXPIRED record decides as EXPIRED."""
        decision = ask(record(n=1), record(ConsentStatus.EXPIRED, at=NOW - timedelta(days=2), n=2))
        assert decision.reason == Reason.EXPIRED

    def test_a_pending_grant_waits_for_confirmation(self) -> None:
        """Double opt-in not confirmed: PENDING_CONFIRMATION."""
        assert ask(record(ConsentStatus.PENDING)).reason == Reason.PENDING_CONFIRMATION

    def test_legitimate_interest_is_a_legal_basis_for_marketing(self) -> None:
        """A grant on legitimate interest allows marketing: LEGAL_BASIS."""
        decision = ask(record(basis=LegalBasis.LEGITIMATE_INTEREST))
        assert (decision.allowed, decision.reason) == (True, Reason.LEGAL_BASIS)

    def test_an_objection_ends_legitimate_interest(self) -> None:
        """Revoking legitimate interest: OBJECTED."""
        decision = ask(
            record(basis=LegalBasis.LEGITIMATE_INTEREST, n=1),
            record(ConsentStatus.REVOKED, basis=LegalBasis.LEGITIMATE_INTEREST, at=NOW - timedelta(days=1), n=2),
        )
        assert (decision.allowed, decision.reason) == (False, Reason.OBJECTED)

    def test_a_basis_the_purpose_does_not_accept_is_not_covered(self) -> None:
        """A contract does not cover marketing: NOT_COVERED."""
        decision = ask(record(basis=LegalBasis.CONTRACT))
        assert (decision.allowed, decision.reason) == (False, Reason.NOT_COVERED)

    def test_an_erased_customer_is_never_contactable(self) -> None:
        """Whatever the records say: CUSTOMER_ERASED."""
        assert ask(record(), customer=CustomerContext(erased=True)).reason == Reason.CUSTOMER_ERASED

    def test_a_suppressed_profile_is_not_contactable(self) -> None:
        """A profile flagged for an erased person's contact point: SUPPRESSED."""
        assert ask(record(), customer=CustomerContext(suppressed=True)).reason == Reason.SUPPRESSED


class TestContactPoints:
    def test_a_point_grant_answers_for_that_point(self) -> None:
        """A grant for a@… allows a@…."""
        assert ask(record(point=EMAIL_A), point=EMAIL_A).allowed

    def test_a_point_grant_does_not_speak_for_the_channel(self) -> None:
        """A question without a contact point is answered by channel-wide records only."""
        assert ask(record(point=EMAIL_A)).reason == Reason.NO_RECORD

    def test_a_later_channel_wide_revocation_beats_a_point_grant(self) -> None:
        """Both kinds of record count for a point; the latest wins."""
        decision = ask(
            record(point=EMAIL_A, n=1), record(ConsentStatus.REVOKED, at=NOW - timedelta(days=1), n=2), point=EMAIL_A
        )
        assert decision.reason == Reason.REVOKED

    def test_another_points_records_do_not_count(self) -> None:
        """A grant for b@… says nothing about a@…."""
        other = ContactPoint(ContactPointKind.EMAIL, "b@example.com")
        assert ask(record(point=other), point=EMAIL_A).reason == Reason.NO_RECORD


class TestPreferences:
    def test_a_topic_opt_out_denies(self) -> None:
        """Consent, but e-mail is opted out for MARKETING: CHANNEL_OPTED_OUT."""
        opted_out = CustomerContext(preferences=(preferences((Channel.EMAIL, "MARKETING", False)),))
        assert ask(record(), customer=opted_out).reason == Reason.CHANNEL_OPTED_OUT

    def test_a_topic_entry_beats_the_all_entry(self) -> None:
        """ALL opted out, MARKETING opted in: allowed."""
        prefs = preferences((Channel.EMAIL, "ALL", False), (Channel.EMAIL, "MARKETING", True))
        assert ask(record(), customer=CustomerContext(preferences=(prefs,))).allowed

    def test_an_all_opt_out_applies_without_a_topic_entry(self) -> None:
        """ALL opted out and nothing for MARKETING: CHANNEL_OPTED_OUT."""
        prefs = preferences((Channel.EMAIL, "ALL", False))
        assert ask(record(), customer=CustomerContext(preferences=(prefs,))).reason == Reason.CHANNEL_OPTED_OUT

    def test_another_channels_opt_out_does_not_matter(self) -> None:
        """SMS opted out: e-mail still allowed."""
        prefs = preferences((Channel.SMS, "ALL", False))
        assert ask(record(), customer=CustomerContext(preferences=(prefs,))).allowed

    def test_the_frequency_cap_is_passed_on(self) -> None:
        """The cap does not decide; it comes with the answer."""
        cap = FrequencyCap(3, FrequencyPeriod.WEEK)
        decision = ask(record(), customer=CustomerContext(preferences=(preferences(frequency_cap=cap),)))
        assert (True, cap) == (decision.allowed, decision.frequency_cap)


class TestQuietHours:
    def test_inside_quiet_hours_a_message_waits_until_their_end(self) -> None:
        """22:00–07:00 in Berlin at 23:00 local: allowed, not now, next at 07:00 local."""
        quiet = preferences(quiet_hours=QuietHours("22:00", "07:00"))
        now = datetime(2026, 6, 15, 21, 0, tzinfo=UTC)  # 23:00 CEST
        decision = ask(record(), customer=CustomerContext((quiet,), "Europe/Berlin"), now=now)
        assert (True, False, datetime(2026, 6, 16, 5, 0, tzinfo=UTC)) == (
            decision.allowed,
            decision.allowed_now,
            decision.next_allowed_at,
        )

    def test_outside_quiet_hours_a_message_may_go_now(self) -> None:
        """At 12:00 local the same quiet hours do not hold anything back."""
        quiet = preferences(quiet_hours=QuietHours("22:00", "07:00"))
        decision = ask(record(), customer=CustomerContext((quiet,), "Europe/Berlin"))
        assert (decision.allowed_now, decision.next_allowed_at) == (True, NOW)

    def test_a_denied_channel_has_no_next_time(self) -> None:
        """Not allowed: neither now nor later."""
        decision = ask()
        assert (decision.allowed_now, decision.next_allowed_at) == (False, None)

    def test_letters_have_no_quiet_hours(self) -> None:
        """POST is exempt."""
        quiet = preferences(quiet_hours=QuietHours("00:00", "23:59"))
        grant = record(channel=Channel.POST)
        decision = ask(grant, channel=Channel.POST, customer=CustomerContext((quiet,), "UTC"))
        assert decision.allowed_now

    def test_the_daylight_saving_change_is_respected(self) -> None:
        """The end of quiet hours on the night clocks go forward is 07:00 CEST, i.e. 05:00 UTC."""
        end = quiet_period_end(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), QuietHours("22:00", "07:00"), "Europe/Berlin")
        assert datetime(2026, 3, 29, 5, 0, tzinfo=UTC) == end

    def test_the_contact_s_quiet_hours_take_precedence(self) -> None:
        """Profile then contact preferences: the contact's quiet hours are the ones answered."""
        profile = preferences(quiet_hours=QuietHours("22:00", "07:00"))
        contact = preferences(quiet_hours=QuietHours("20:00", "08:00"))
        decision = ask(record(), customer=CustomerContext((profile, contact), "UTC"))
        assert QuietHours("20:00", "08:00") == decision.quiet_hours


class TestPurposePolicies:
    def test_defaults_follow_the_gdpr_bases_of_each_purpose(self) -> None:
        """MARKETING: consent or legitimate interest; PROFILING and sharing: consent only; WEB needs double opt-in."""
        bases = {p: sorted(b.value for b in policy.legal_bases) for p, policy in DEFAULT_POLICIES.items()}
        assert bases == {
            "MARKETING": ["CONSENT", "LEGITIMATE_INTEREST"],
            "SERVICE": ["CONSENT", "CONTRACT", "LEGAL_OBLIGATION", "LEGITIMATE_INTEREST"],
            "PROFILING": ["CONSENT"],
            "THIRD_PARTY_SHARING": ["CONSENT"],
        }
        assert DEFAULT_POLICIES["MARKETING"].needs_double_opt_in(CaptureSource.WEB)

    def test_a_tenant_purpose_without_default_needs_consent(self) -> None:
        """NEWSLETTER: consent only, web captures confirmed."""
        policy = default_policy("NEWSLETTER")
        assert ({LegalBasis.CONSENT}, True) == (set(policy.legal_bases), policy.needs_double_opt_in(CaptureSource.WEB))

    def test_a_grant_validity_gives_the_expiry(self) -> None:
        """365 days after the capture."""
        policy = PurposePolicy.create(
            "NEWSLETTER", legal_bases=[LegalBasis.CONSENT], grant_validity_days=365, double_opt_in_sources=[]
        )
        assert NOW + timedelta(days=365) == policy.expiry_for(NOW)

    @pytest.mark.parametrize(
        ("bases", "days", "sources"),
        [([], None, []), ([LegalBasis.CONSENT], 0, []), ([LegalBasis.CONSENT], None, [CaptureSource.MERGE])],
    )
    def test_an_invalid_policy_is_refused(
        self, bases: list[LegalBasis], days: int | None, sources: list[CaptureSource]
    ) -> None:
        """No basis, a validity below a day, or MERGE as a capture source: InvalidValue."""
        with pytest.raises(InvalidValue):
            PurposePolicy.create("X", legal_bases=bases, grant_validity_days=days, double_opt_in_sources=sources)
