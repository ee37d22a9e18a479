"""The consent precedence rule and the hierarchy rules, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    ContactPoint,
    ContactPointKind,
    LegalBasis,
    current_consents,
)
from customer360.domain.errors import BusinessRuleViolation, HierarchyCycle, InvalidValue
from customer360.domain.relationships import Relationship, RelationshipType, check_new_link
from customer360.domain.values import Channel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _record(status: ConsentStatus, captured: datetime, recorded: datetime | None = None, n: int = 0) -> ConsentRecord:
    return ConsentRecord.capture(
        id=f"CONS-{n}",
        customer_id="CUST-1",
        channel=Channel.EMAIL,
        purpose="MARKETING",
        status=status,
        contact_point=None,
        legal_basis=LegalBasis.CONSENT,
        source=CaptureSource.API,
        policy_version=None,
        evidence=ConsentEvidence(captured_at=captured),
        actor="u",
        now=recorded or T0 + timedelta(days=365),
    )


class TestConsentPrecedence:
    def test_without_records_there_is_no_consent(self) -> None:
        """No record, no state."""
        assert current_consents([]) == []

    def test_a_later_revocation_beats_a_grant_recorded_after_it(self) -> None:
        """Order of recording does not matter; the moment of capture does."""
        revoke = _record(ConsentStatus.REVOKED, T0 + timedelta(days=2), n=1)
        grant = _record(ConsentStatus.GRANTED, T0 + timedelta(days=1), recorded=T0 + timedelta(days=400), n=2)
        assert [r.status for r in current_consents([revoke, grant])] == [ConsentStatus.REVOKED]

    @given(st.permutations([0, 1, 2, 3]))
    def test_the_result_does_not_depend_on_input_order(self, order: list[int]) -> None:
        """Any order of the same records gives the same decision."""
        records = [
            _record(ConsentStatus.GRANTED, T0, n=0),
            _record(ConsentStatus.REVOKED, T0 + timedelta(hours=1), n=1),
            _record(ConsentStatus.GRANTED, T0 + timedelta(hours=1), n=2),
            _record(ConsentStatus.GRANTED, T0 - timedelta(hours=1), n=3),
        ]
        assert [r.id for r in current_consents([records[i] for i in order])] == ["CONS-1"]

    def test_an_sms_cannot_go_to_an_email_address(self) -> None:
        """The contact point must be able to receive the channel."""
        with pytest.raises(InvalidValue):
            ConsentRecord.capture(
                id="CONS-1",
                customer_id="CUST-1",
                channel=Channel.SMS,
                purpose="MARKETING",
                status=ConsentStatus.GRANTED,
                contact_point=ContactPoint(ContactPointKind.EMAIL, "a@b.example"),
                legal_basis=LegalBasis.CONSENT,
                source=CaptureSource.API,
                policy_version=None,
                evidence=ConsentEvidence(),
                actor="u",
                now=T0,
            )


def _edge(rel_id: str, child: str, parent: str, start: date | None = None, end: date | None = None) -> Relationship:
    return Relationship(rel_id, child, parent, RelationshipType.SUBSIDIARY_OF, start, end, T0, "u")


class TestHierarchyRules:
    def test_linking_under_a_descendant_is_a_cycle(self) -> None:
        """A cannot go under C when C's ancestors include A."""
        with pytest.raises(HierarchyCycle):
            check_new_link(
                from_id="A",
                to_id="C",
                type=RelationshipType.SUBSIDIARY_OF,
                valid_from=None,
                valid_to=None,
                existing_from=[],
                ancestors_of_target=["B", "A"],
            )

    def test_consecutive_parents_are_allowed(self) -> None:
        """A new parent from the day after the old link ended is fine."""
        old = _edge("REL-1", "A", "P1", date(2020, 1, 1), date(2020, 12, 31))
        check_new_link(
            from_id="A",
            to_id="P2",
            type=RelationshipType.SUBSIDIARY_OF,
            valid_from=date(2021, 1, 1),
            valid_to=None,
            existing_from=[old],
            ancestors_of_target=[],
        )

    def test_overlapping_parents_are_refused(self) -> None:
        """Two parents in the same period break the tree."""
        old = _edge("REL-1", "A", "P1", date(2020, 1, 1), None)
        with pytest.raises(BusinessRuleViolation, match="parent"):
            check_new_link(
                from_id="A",
                to_id="P2",
                type=RelationshipType.SUBSIDIARY_OF,
                valid_from=date(2024, 1, 1),
                valid_to=None,
                existing_from=[old],
                ancestors_of_target=[],
            )
