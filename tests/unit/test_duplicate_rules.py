"""Duplicate detection's domain rules: the engine's view of a profile, thresholds, ranking, pair ids."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from customer360.domain.duplicates import (
    DuplicatePolicy,
    identifier_agrees,
    match_record_of,
    pair_id,
    parse_pair_id,
    rank_candidates,
)
from customer360.domain.errors import InvalidValue
from customer360.domain.matching import FieldContribution, MatchModel, MatchRecord, prepare
from customer360.domain.profile_attributes import Contact, ContactAttributes, ProfileAttributes
from customer360.domain.values import (
    AddressType,
    CustomerKind,
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    TaxId,
    TaxIdType,
)

NOW = datetime(2026, 11, 27, tzinfo=UTC)
LOW = "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"
HIGH = "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4B"


def _contact(email: str, *, removed: bool = False) -> Contact:
    attributes = ContactAttributes(name="Anna Schmidt", emails=(EmailAddress(email),))
    return Contact("CONT-1", attributes, NOW, NOW, removed_at=NOW if removed else None)


class TestMatchRecordOf:
    def test_an_organisation_carries_its_own_and_its_active_contacts_contact_points(self) -> None:
        """Contacts' e-mails are evidence about the company; retired contacts are not."""
        attributes = ProfileAttributes(
            kind=CustomerKind.ORGANIZATION,
            name="Müller",
            legal_name="Müller Maschinenbau GmbH",
            emails=(EmailAddress("info@mueller.example"),),
            tax_ids=(TaxId("DE", TaxIdType.VAT, "DE136695976", True), TaxId("DE", TaxIdType.TIN, "12345", False)),
            website="https://mueller.example",
        )
        contacts = [_contact("anna@mueller.example"), _contact("gone@mueller.example", removed=True)]
        record = match_record_of("CUST-1", attributes, contacts)
        assert (record.kind, record.legal_name, record.emails, record.tax_ids, record.domains) == (
            "ORGANIZATION",
            "Müller Maschinenbau GmbH",
            ("info@mueller.example", "anna@mueller.example"),
            ("DE136695976", "DE12345"),
            ("https://mueller.example",),
        )

    def test_a_person_keeps_names_birth_date_address_lines_and_phones_in_e164(self) -> None:
        """The first address line is the street, the second the extra line; contacts are other people."""
        attributes = ProfileAttributes(
            kind=CustomerKind.PERSON,
            name="Anna Schmidt",
            given_name="Anna",
            family_name="Schmidt",
            birth_date=date(1980, 5, 17),
            phones=(PhoneNumber("+49301234567", "030 1234567"),),
            addresses=(PostalAddress(AddressType.BILLING, ("Hauptstr. 5", "Hinterhaus"), "Berlin", "DE", "10115"),),
        )
        record = match_record_of("CUST-2", attributes, [_contact("other@example.com")])
        address = record.addresses[0]
        assert (record.given_name, record.birth_date, record.phones, record.emails) == (
            "Anna",
            "1980-05-17",
            ("+49301234567",),
            (),
        )
        assert (address.street, address.line2, address.postal_code, address.city) == (
            "Hauptstr. 5",
            "Hinterhaus",
            "10115",
            "Berlin",
        )


class TestDuplicatePolicy:
    def test_the_defaults_are_review_half_likely_ninety_automatic_merge_off(self) -> None:
        """Review ≥ 0.5, refuse on create ≥ 0.9, automatic merge off (0.999 when switched on)."""
        policy = DuplicatePolicy()
        assert (policy.review_threshold, policy.likely_threshold, policy.auto_merge, policy.auto_merge_threshold) == (
            0.5,
            0.9,
            False,
            0.999,
        )

    @pytest.mark.parametrize(
        ("review", "likely", "automatic", "field"),
        [
            (0.9, 0.5, 0.99, "likelyThreshold"),
            (0.5, 0.99, 0.9, "autoMergeThreshold"),
            (0.0, 0.9, 0.99, "reviewThreshold"),
        ],
    )
    def test_thresholds_must_rise_from_review_to_automatic_merge(
        self, review: float, likely: float, automatic: float, field: str
    ) -> None:
        """review ≤ likely ≤ automatic merge, each strictly between 0 and 1."""
        with pytest.raises(InvalidValue) as raised:
            DuplicatePolicy(review, likely, False, automatic)
        assert raised.value.field == field


def _person(record_id: str, given: str, family: str, email: str | None = None) -> MatchRecord:
    return MatchRecord(
        record_id=record_id,
        kind="PERSON",
        given_name=given,
        family_name=family,
        birth_date="1980-05-17",
        emails=(email,) if email else (),
    )


class TestRankCandidates:
    def test_candidates_come_best_first_above_the_threshold_with_their_explanation(self) -> None:
        """The exact copy beats the typo; the stranger is left out; explanations name fields and levels."""
        model = MatchModel()
        subject = prepare(_person("new", "Anna", "Schmidt", "anna@example.com"))
        others = [
            prepare(_person("CUST-typo", "Anna", "Schmit", "anna@example.com")),
            prepare(_person("CUST-same", "Anna", "Schmidt", "anna@example.com")),
            prepare(_person("CUST-other", "Bernd", "Keller")),
        ]
        ranked = rank_candidates(model, subject, others, threshold=0.5, limit=10)
        levels = {c.field: c.level for c in ranked[1].explanation}
        assert ([c.customer_id for c in ranked], levels["family_name"], levels["email"]) == (
            ["CUST-same", "CUST-typo"],
            "typo",
            "exact",
        )

    def test_the_limit_keeps_only_the_best(self) -> None:
        """At most ``limit`` candidates."""
        subject = prepare(_person("new", "Anna", "Schmidt", "anna@example.com"))
        others = [prepare(_person(f"CUST-{i}", "Anna", "Schmidt", "anna@example.com")) for i in range(5)]
        assert len(rank_candidates(MatchModel(), subject, others, threshold=0.5, limit=2)) == 2


class TestPairIds:
    def test_a_pair_id_names_the_lower_id_first_whatever_the_order(self) -> None:
        """(a, b) and (b, a) are one pair."""
        assert (pair_id(HIGH, LOW), parse_pair_id(f"{HIGH}~{LOW}")) == (f"{LOW}~{HIGH}", (LOW, HIGH))

    @pytest.mark.parametrize("value", [f"{LOW}~{LOW}", f"{LOW}-{HIGH}", "CUST-1~CUST-2"])
    def test_malformed_pair_ids_are_refused(self, value: str) -> None:
        """Two different customer ids joined by '~', nothing else."""
        with pytest.raises(InvalidValue):
            parse_pair_id(value)


class TestIdentifierAgreement:
    def test_only_an_exact_identifier_counts(self) -> None:
        """An exact e-mail does; an exact name or a typo in the e-mail does not."""
        assert (
            identifier_agrees([FieldContribution("email", "exact", 9.0)]),
            identifier_agrees([FieldContribution("family_name", "exact", 9.0), FieldContribution("email", "typo", 4)]),
        ) == (True, False)
