"""Pure privacy rules: the erasure tombstone, legal holds, and the CONSENT_VIOLATION guards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from customer360.domain.consent import CaptureSource, ConsentEvidence, ConsentRecord, ConsentStatus, LegalBasis
from customer360.domain.consent_guard import check_preferences_respect_consent
from customer360.domain.consent_policy import default_policy
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import BusinessRuleViolation, ConsentViolation, InvalidValue
from customer360.domain.events import CustomerErased
from customer360.domain.privacy import (
    ERASED,
    ContactPointValue,
    LegalHold,
    LegalHoldActive,
    check_no_active_hold,
    erase_profile,
    personal_contact_points,
)
from customer360.domain.profile_attributes import ContactAttributes, ProfileAttributes
from customer360.domain.values import (
    Channel,
    ChannelPreference,
    CommunicationPreferences,
    ContactRole,
    CustomerKind,
    CustomerStatus,
    EmailAddress,
    PhoneNumber,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def person() -> CustomerProfile:
    attributes = ProfileAttributes.build(
        today=date(2026, 6, 15),
        kind=CustomerKind.PERSON,
        given_name="Greta",
        family_name="Garbo",
        segment="VIP",
        emails=(EmailAddress.parse("Greta@Example.org", "emails[0]"),),
        phones=(PhoneNumber.parse("+46 8 123 456 78", "phones[0]", default_region=None),),
    )
    contact = ContactAttributes.build(
        name="Assistant", roles=frozenset({ContactRole.SALES}), emails=(EmailAddress.parse("a@example.org", "e"),)
    )
    return CustomerProfile.create(
        id="CUST-1",
        tenant_id="t",
        attributes=attributes,
        status=CustomerStatus.ACTIVE,
        contacts=[("CONT-1", contact)],
        actor="steward",
        now=NOW - timedelta(days=30),
    )


def erased(profile: CustomerProfile, *, announce: bool = True) -> CustomerProfile:
    profile.events.clear()
    profile.mark_saved()
    erase_profile(
        profile,
        request_id="ERA-1",
        erased_ids=("CUST-1", "CUST-2"),
        data_classes=("CONTACTS", "PROFILE"),
        announce=announce,
        actor="dpo",
        now=NOW,
    )
    return profile


class TestErasure:
    def test_the_tombstone_keeps_kind_segment_and_contact_roles_only(self) -> None:
        """Names, e-mails, phones go; kind, segment, status ERASED and the contact's roles stay."""
        profile = erased(person())
        contact = profile.contacts[0].attributes
        assert (
            profile.attributes.kind,
            profile.attributes.name,
            profile.attributes.given_name,
            profile.attributes.emails,
            profile.attributes.phones,
            profile.attributes.segment,
            profile.status,
        ) == (CustomerKind.PERSON, ERASED, None, (), (), "VIP", CustomerStatus.ERASED)
        assert (ERASED, (), frozenset({ContactRole.SALES})) == (contact.name, contact.emails, contact.roles)

    def test_the_erasure_is_one_new_version_with_its_proof(self) -> None:
        """One CustomerErased event names the request, the erased ids and the classes of data, no value."""
        profile = erased(person())
        [event] = profile.events
        assert isinstance(event, CustomerErased)
        proof = {c.field: c.new for c in event.changes}
        assert (
            profile.version,
            proof["erasureRequestId"],
            proof["erasedCustomerIds"],
            proof["dataClasses"],
        ) == (2, "ERA-1", ["CUST-1", "CUST-2"], ["CONTACTS", "PROFILE"])
        assert "Garbo" not in str(event)

    def test_only_the_requested_profile_announces(self) -> None:
        """The other profiles of the lineage record an audit-only erasure."""
        assert [erased(person(), announce=a).events[0].published for a in (True, False)] == [True, False]

    def test_an_erased_profile_is_not_erased_again(self) -> None:
        """A second erasure is refused (CUSTOMER_ERASED)."""
        profile = erased(person())
        with pytest.raises(BusinessRuleViolation):
            erased(profile)

    def test_the_suppression_list_gets_every_email_and_phone(self) -> None:
        """Profile and contact points, normalised (lower-case e-mail, E.164 phone)."""
        assert {
            ContactPointValue("EMAIL", "greta@example.org"),
            ContactPointValue("EMAIL", "a@example.org"),
            ContactPointValue("PHONE", "+46812345678"),
        } == personal_contact_points(person())


class TestLegalHolds:
    def test_an_open_hold_is_active(self) -> None:
        """No expiry, not released: active."""
        hold = LegalHold.place(id="HOLD-1", customer_id="CUST-1", reason="case", expires_at=None, actor="u", now=NOW)
        assert hold.active(NOW + timedelta(days=3650))

    def test_a_hold_past_its_expiry_is_not_active(self) -> None:
        """The hold ends by itself."""
        hold = LegalHold.place(
            id="HOLD-1", customer_id="CUST-1", reason="case", expires_at=NOW + timedelta(days=1), actor="u", now=NOW
        )
        assert not hold.active(NOW + timedelta(days=1))

    def test_an_active_hold_blocks_with_itself_in_the_error(self) -> None:
        """check_no_active_hold raises LegalHoldActive carrying the hold."""
        hold = LegalHold.place(id="HOLD-1", customer_id="CUST-2", reason="case", expires_at=None, actor="u", now=NOW)
        with pytest.raises(LegalHoldActive) as raised:
            check_no_active_hold([hold], NOW)
        assert (raised.value.details["holdId"], raised.value.details["customerId"]) == ("HOLD-1", "CUST-2")

    def test_a_released_hold_is_released_once(self) -> None:
        """Releasing twice: LEGAL_HOLD_NOT_ACTIVE."""
        hold = LegalHold.place(id="HOLD-1", customer_id="CUST-1", reason="case", expires_at=None, actor="u", now=NOW)
        hold.release(actor="u", now=NOW)
        with pytest.raises(BusinessRuleViolation):
            hold.release(actor="u", now=NOW)

    def test_a_hold_cannot_end_in_the_past(self) -> None:
        """expiresAt before now: InvalidValue."""
        with pytest.raises(InvalidValue):
            LegalHold.place(
                id="H", customer_id="C", reason="r", expires_at=NOW - timedelta(seconds=1), actor="u", now=NOW
            )


def consent(channel: Channel, status: ConsentStatus, purpose: str = "MARKETING", n: int = 1) -> ConsentRecord:
    return ConsentRecord.capture(
        id=f"CONS-{n}",
        customer_id="CUST-1",
        channel=channel,
        purpose=purpose,
        status=status,
        contact_point=None,
        legal_basis=LegalBasis.CONSENT,
        source=CaptureSource.API,
        policy_version=None,
        evidence=ConsentEvidence(captured_at=NOW - timedelta(days=n)),
        actor="u",
        now=NOW,
    )


def guard(after: CommunicationPreferences, *records: ConsentRecord) -> None:
    check_preferences_respect_consent(
        CommunicationPreferences(),
        after,
        records,
        policy_for=default_policy,
        contact_point=None,
        now=NOW,
        field="communication",
    )


class TestConsentGuards:
    def test_a_revoked_channel_cannot_be_preferred(self) -> None:
        """SMS revoked for every purpose with a statement: CONSENT_VIOLATION."""
        with pytest.raises(ConsentViolation):
            guard(CommunicationPreferences(preferred_channel=Channel.SMS), consent(Channel.SMS, ConsentStatus.REVOKED))

    def test_a_channel_without_any_statement_can_be_preferred(self) -> None:
        """Nothing said about e-mail: preferring it contradicts nothing."""
        guard(CommunicationPreferences(preferred_channel=Channel.EMAIL))

    def test_a_subscription_needs_consent_for_its_topic(self) -> None:
        """Opting in to NEWSLETTER by e-mail without consent for it: CONSENT_VIOLATION."""
        subscription = CommunicationPreferences(channels=(ChannelPreference(Channel.EMAIL, "NEWSLETTER", True),))
        with pytest.raises(ConsentViolation):
            guard(subscription, consent(Channel.EMAIL, ConsentStatus.GRANTED))

    def test_a_subscription_with_consent_is_accepted(self) -> None:
        """A NEWSLETTER grant on e-mail allows the subscription."""
        subscription = CommunicationPreferences(channels=(ChannelPreference(Channel.EMAIL, "NEWSLETTER", True),))
        guard(subscription, consent(Channel.EMAIL, ConsentStatus.GRANTED, purpose="NEWSLETTER"))

    def test_opting_out_is_always_accepted(self) -> None:
        """A preference that says no never contradicts consent."""
        guard(CommunicationPreferences(channels=(ChannelPreference(Channel.EMAIL, "NEWSLETTER", False),)))
