"""Pure rules of the integration: entitlements and the effective SLA, credit values, relay batching,
and how consumer failures are described."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from customer360.domain.entitlements import CreditTermsChange, Entitlement, effective_sla
from customer360.domain.errors import CustomerNotFound, InvalidValue
from customer360.infrastructure.availability import database_unavailable
from customer360.infrastructure.consumers.failures import describe
from customer360.infrastructure.messaging.avro_codec import EncodedEvent, InvalidEventError
from customer360.infrastructure.messaging.relay import plan_batch
from customer360.infrastructure.persistence.outbox_relay_store import OutboxRow


def entitlement(contract: str, response: int, valid_to: date | None = None, **overrides: Any) -> Entitlement:
    values: dict[str, Any] = {
        "contract_id": contract,
        "customer_id": "CUST-1",
        "services": ["hotline", "HOTLINE", "onsite"],
        "sla_tier": "gold",
        "response_time_minutes": response,
        "resolution_time_minutes": response * 4,
        "valid_from": date(2026, 1, 1),
        "valid_to": valid_to,
    }
    values.update(overrides)
    return Entitlement.create(**values)


class TestEntitlement:
    def test_codes_are_upper_case_and_services_unique(self) -> None:
        """hotline, HOTLINE, onsite → HOTLINE, ONSITE; tier gold → GOLD."""
        created = entitlement("C-1", 60)
        assert (created.services, created.sla_tier) == (("HOTLINE", "ONSITE"), "GOLD")

    def test_validity_must_not_end_before_it_starts(self) -> None:
        """validTo before validFrom is refused."""
        with pytest.raises(InvalidValue, match="validTo"):
            entitlement("C-1", 60, valid_to=date(2025, 12, 31))

    def test_resolution_cannot_be_faster_than_response(self) -> None:
        """resolutionTimeMinutes < responseTimeMinutes is refused."""
        with pytest.raises(InvalidValue, match="resolutionTimeMinutes"):
            entitlement("C-1", 60, resolution_time_minutes=30)


class TestEffectiveSla:
    def test_the_fastest_active_contract_applies(self) -> None:
        """Of 60 min (expired), 120 min and 240 min, the 120-minute contract applies on 2026-06-01."""
        offers = [
            entitlement("C-60", 60, valid_to=date(2026, 3, 31)),
            entitlement("C-240", 240),
            entitlement("C-120", 120),
        ]
        best = effective_sla(offers, date(2026, 6, 1))
        assert best is not None
        assert best.contract_id == "C-120"

    def test_without_an_active_contract_there_is_none(self) -> None:
        """Before any validity starts: None."""
        assert effective_sla([entitlement("C-1", 60)], date(2025, 6, 1)) is None


class TestCreditTermsChange:
    def test_amounts_keep_two_decimals_and_codes_are_normalised(self) -> None:
        """'250000' → 250000.00, eur → EUR, net30 → NET30."""
        change = CreditTermsChange.create(
            credit_limit="250000", currency="eur", payment_terms="net30", credit_blocked=None
        )
        assert (Decimal("250000.00"), "EUR", "NET30", False) == (
            change.credit_limit,
            change.currency,
            change.payment_terms,
            change.empty,
        )

    @pytest.mark.parametrize("amount", ["-1", "1.005", "abc", "NaN", "1e20"])
    def test_impossible_amounts_are_refused(self, amount: str) -> None:
        """Negative, three decimals, not a number, not finite, too large."""
        with pytest.raises(InvalidValue, match="creditLimit"):
            CreditTermsChange.create(credit_limit=amount, currency=None, payment_terms=None, credit_blocked=None)

    def test_unknown_currencies_are_refused(self) -> None:
        """XYZ is not ISO 4217."""
        with pytest.raises(InvalidValue, match="creditCurrency"):
            CreditTermsChange.create(credit_limit=None, currency="XYZ", payment_terms=None, credit_blocked=None)


def row(position: int, aggregate: str) -> OutboxRow:
    return OutboxRow(
        position=position,
        tenant_id="t",
        event_id=f"evt-{position}",
        event_type="CustomerProfileUpdatedEvent",
        aggregate_id=aggregate,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        envelope={},
    )


class TestPlanBatch:
    def test_a_row_that_cannot_be_encoded_holds_back_its_customers_later_rows_only(self) -> None:
        """A fails at 2: A's row 4 waits; B's rows 1, 3 and 5 go out in order."""
        rows = [row(1, "B"), row(2, "A"), row(3, "B"), row(4, "A"), row(5, "B")]

        def encode(item: OutboxRow) -> tuple[str, EncodedEvent]:
            if item.position == 2:
                raise InvalidEventError("broken")
            return "topic", EncodedEvent("E", None, item.aggregate_id.encode(), b"", [])  # type: ignore[arg-type]

        outgoing, held = plan_batch(rows, encode)
        assert (
            [o.row.position for o in outgoing],
            [(r.position, reason) for r, reason in held],
        ) == ([1, 3, 5], [(2, "unencodable"), (4, "blocked-by-earlier-event")])

    def test_a_customer_stays_held_back_in_the_next_batch(self) -> None:
        """The blocked set carries over: A's row in the next batch waits too, B's goes."""
        blocked: set[str] = set()

        def encode(item: OutboxRow) -> tuple[str, EncodedEvent]:
            if item.position == 1:
                raise LookupError("no topic")
            return "topic", EncodedEvent("E", None, b"", b"", [])  # type: ignore[arg-type]

        plan_batch([row(1, "A")], encode, blocked)
        outgoing, held = plan_batch([row(2, "A"), row(3, "B")], encode, blocked)
        assert ([o.row.position for o in outgoing], [r.position for r, _ in held]) == ([3], [2])


class TestFailureDescriptions:
    def test_domain_errors_keep_their_code_and_message(self) -> None:
        """CustomerNotFound → failed:CUSTOMER_NOT_FOUND with its (id-only) message."""
        assert describe(CustomerNotFound("CUST-1")) == ("failed:CUSTOMER_NOT_FOUND", "Customer CUST-1 not found")

    def test_database_errors_are_named_by_type_only(self) -> None:
        """A database error's text may quote row values: only its type is kept."""
        error = IntegrityError("INSERT …", {}, Exception("Key (email)=(jane@example.com) already exists"))
        assert describe(error) == ("error:IntegrityError", "IntegrityError")

    def test_a_lost_connection_anywhere_in_the_chain_means_unavailable(self) -> None:
        """ConnectionResetError as the cause: unavailable; a domain error: not."""
        wrapped = RuntimeError("wrapped")
        wrapped.__cause__ = ConnectionResetError("reset")
        assert (database_unavailable(wrapped), database_unavailable(CustomerNotFound("CUST-1"))) == (True, False)
