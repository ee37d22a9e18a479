"""The merge's domain rules: contacts, relationships, consent across merge and unmerge, provenance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    LegalBasis,
    current_consents,
)
from customer360.domain.customer import CustomerProfile
from customer360.domain.merge import move_contacts, relationships_to_retire
from customer360.domain.merge_consent import after_unmerge, most_restrictive
from customer360.domain.profile_attributes import ContactAttributes, ProfileAttributes
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.domain.survivorship import Candidate, SurvivorshipPolicy, survive
from customer360.domain.values import Channel, ContactRole, CustomerKind, CustomerStatus, EmailAddress

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
_ids = count(1)


def _profile(customer_id: str, contacts: tuple[ContactAttributes, ...] = (), **values: Any) -> CustomerProfile:
    values.setdefault("name", "Acme")
    return CustomerProfile.create(
        id=customer_id,
        tenant_id="t",
        attributes=ProfileAttributes.build(today=NOW.date(), kind=CustomerKind.ORGANIZATION, **values),
        status=CustomerStatus.ACTIVE,
        contacts=[(f"CONT-{customer_id}-{i}", c) for i, c in enumerate(contacts)],
        actor="test",
        now=NOW - timedelta(days=10),
    )


def _contact(name: str, email: str | None = None, primary: bool = False) -> ContactAttributes:
    roles = frozenset({ContactRole.BILLING})
    return ContactAttributes.build(
        name=name,
        roles=roles,
        primary_roles=roles if primary else frozenset(),
        emails=(EmailAddress(email),) if email else (),
    )


def _consent(customer_id: str, status: str, days_ago: int, channel: Channel = Channel.EMAIL) -> ConsentRecord:
    moment = NOW - timedelta(days=days_ago)
    return ConsentRecord.capture(
        id=f"CONS-{next(_ids)}",
        customer_id=customer_id,
        channel=channel,
        purpose="MARKETING",
        status=ConsentStatus(status),
        contact_point=None,
        legal_basis=LegalBasis.CONSENT,
        source=CaptureSource.API,
        policy_version=None,
        evidence=ConsentEvidence(captured_at=moment),
        actor="test",
        now=moment,
    )


def _link(rel_id: str, from_id: str, to_id: str, type: RelationshipType = RelationshipType.PARTNER_OF) -> Relationship:
    return Relationship(rel_id, from_id, to_id, type, None, None, NOW, "test")


class TestContacts:
    def test_a_duplicate_source_contact_moves_retired_and_primaries_stay_with_the_target(self) -> None:
        """Same name and e-mail as a target contact: retired (kept, not deleted); others lose taken roles."""
        target = _profile("T", (_contact("Jane", "jane@acme.example", primary=True),))
        source = _profile("S", (_contact("JANE", "jane@acme.example"), _contact("Bob", primary=True)))
        move = move_contacts(target, source, NOW)
        by_id = {c.id: c for c in move.contacts}
        assert move.moved == ("CONT-S-0", "CONT-S-1")
        assert move.retired == ("CONT-S-0",)
        assert by_id["CONT-S-0"].removed_at == NOW
        assert (by_id["CONT-T-0"].attributes.primary_roles, by_id["CONT-S-1"].attributes.primary_roles) == (
            frozenset({ContactRole.BILLING}),
            frozenset(),
        )
        assert source.contacts[1].attributes.primary_roles == frozenset({ContactRole.BILLING}), "source untouched"


class TestRelationships:
    def test_links_between_the_pair_duplicates_and_second_parents_are_retired(self) -> None:
        """What would become a self-link, a duplicate link, or a second parent is retired, the rest moves."""
        links = [
            _link("R1", "S", "T"),
            _link("R2", "T", "X"),
            _link("R3", "S", "X"),
            _link("R4", "T", "P1", RelationshipType.SUBSIDIARY_OF),
            _link("R5", "S", "P2", RelationshipType.SUBSIDIARY_OF),
            _link("R6", "S", "Y"),
            _link("R7", "C", "S", RelationshipType.SUBSIDIARY_OF),
        ]
        assert relationships_to_retire("T", "S", links) == ["R1", "R3", "R5"]


class TestConsentAcrossAMerge:
    def test_a_grant_cannot_outlive_the_other_sides_revocation(self) -> None:
        """Newer grant on the target, older revocation on the source: the merge appends a revocation."""
        derived = most_restrictive(
            [_consent("T", "GRANTED", 1)],
            [_consent("S", "REVOKED", 5)],
            target_id="T",
            merge_id="MRG-1",
            new_id=lambda: "CONS-D",
            actor="steward",
            now=NOW,
        )
        assert [(d.customer_id, d.status, d.source, d.effective_at) for d in derived] == [
            ("T", ConsentStatus.REVOKED, CaptureSource.MERGE, NOW)
        ]

    def test_nothing_is_appended_when_the_latest_record_is_already_restrictive(self) -> None:
        """A newer revocation already decides; a key held by one side only is that side's."""
        derived = most_restrictive(
            [_consent("T", "REVOKED", 1), _consent("T", "GRANTED", 1, Channel.SMS)],
            [_consent("S", "GRANTED", 5)],
            target_id="T",
            merge_id="MRG-1",
            new_id=lambda: "CONS-D",
            actor="steward",
            now=NOW,
        )
        assert derived == []

    def test_unmerge_reinstates_the_targets_own_consent_and_carries_later_revocations(self) -> None:
        """The derived revocation is followed by the target's own grant; a revocation captured on the
        golden record during the merge is copied to the source."""
        merged_at = NOW - timedelta(days=3)
        own = _consent("T", "GRANTED", 4)
        derived = most_restrictive(
            [own],
            [_consent("S", "REVOKED", 6)],
            target_id="T",
            merge_id="M",
            new_id=lambda: "CONS-D",
            actor="steward",
            now=merged_at,
        )
        later = _consent("T", "REVOKED", 1, Channel.SMS)
        reinstated, carried = after_unmerge(
            merge_id="M",
            merged_at=merged_at,
            derived_ids={"CONS-D"},
            target_id="T",
            target_records=[own, *derived, later],
            source_id="S",
            source_records=[_consent("S", "REVOKED", 6)],
            source_points=set(),
            new_id=lambda: f"CONS-{next(_ids)}",
            actor="steward",
            now=NOW,
        )
        assert [(r.channel, r.status) for r in reinstated] == [(Channel.EMAIL, ConsentStatus.GRANTED)]
        assert [(r.customer_id, r.channel, r.status) for r in carried] == [("S", Channel.SMS, ConsentStatus.REVOKED)]
        state = {r.state_key: r.status for r in current_consents([own, *derived, later, *reinstated])}
        assert state == {"EMAIL/MARKETING/*": ConsentStatus.GRANTED, "SMS/MARKETING/*": ConsentStatus.REVOKED}


class TestProvenance:
    def test_every_field_names_its_record_merge_and_rule(self) -> None:
        """Source values carry the merge id; the target's keep their own origin; items list every holder."""
        target = _profile("T", segment="SMB", tags=("vip",))
        source = _profile("S", industry="Tools", tags=("VIP", "south"))
        golden = survive(
            Candidate("T", target.attributes, NOW),
            Candidate("S", source.attributes, NOW),
            SurvivorshipPolicy.default(),
            today=date(2026, 11, 27),
        )
        native = Provenance.native("T", target.attributes)
        provenance = native.after_merge(Provenance.native("S", source.attributes), golden, "MRG-1", ["CONT-S-0"])
        industry, segment = provenance.fields["industry"], provenance.fields["segment"]
        assert (industry.origin.customer_id, industry.origin.merge_id, industry.rule, industry.fallback) == (
            "S",
            "MRG-1",
            "KEEP_TARGET",
            True,
        )
        assert (segment.origin.customer_id, segment.origin.merge_id) == ("T", None)
        assert [[o.customer_id for o in i.origins] for i in provenance.lists["tags"].items] == [["T", "S"], ["S"]]
        assert Provenance.from_document("T", provenance.to_document()) == provenance

    def test_a_value_changed_after_the_merge_becomes_the_records_own(self) -> None:
        """Reconciling with the current values marks the change UPDATED and remembers the replaced merge."""
        target, source = _profile("T"), _profile("S", segment="SMB")
        golden = survive(
            Candidate("T", target.attributes, NOW),
            Candidate("S", source.attributes, NOW),
            SurvivorshipPolicy.default(),
            today=date(2026, 11, 27),
        )
        provenance = Provenance.native("T", target.attributes).after_merge(
            Provenance.native("S", source.attributes), golden, "MRG-1", []
        )
        edited = ProfileAttributes.build(
            today=date(2026, 11, 27), kind=CustomerKind.ORGANIZATION, name="Acme", segment="MID"
        )
        segment = provenance.reconciled(edited).fields["segment"]
        assert (segment.origin.customer_id, segment.rule, segment.replaced_merge) == ("T", "UPDATED", "MRG-1")
