"""Correlation ids decide trace ids: a trace id stays itself, a ULID is its 128 bits, anything else is hashed."""

from __future__ import annotations

import pytest

from customer360.infrastructure.trace_context import TraceParent, parse_traceparent, span_id_for, trace_id_for


class TestTraceIdFor:
    def test_a_trace_id_is_its_own_trace_id(self) -> None:
        """32 hex digits (any case) are taken as they are, lower-cased."""
        assert trace_id_for("4BF92F3577B34DA6A3CE929D0E0E4736") == "4bf92f3577b34da6a3ce929d0e0e4736"

    def test_a_ulid_is_read_as_its_128_bits(self) -> None:
        """The service's generated correlation ids map without loss: the largest ULID is all ones."""
        assert (trace_id_for("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), trace_id_for("00000000000000000000000001")) == (
            "f" * 32,
            "0" * 31 + "1",
        )

    @pytest.mark.parametrize(
        "correlation", ["corr-123", "0" * 32, "00000000000000000000000000", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ"]
    )
    def test_other_ids_are_hashed_to_a_stable_nonzero_trace_id(self, correlation: str) -> None:
        """A caller's own format, the invalid all-zero id and a ULID beyond 128 bits: SHA-256, 128 bits."""
        trace = trace_id_for(correlation)
        assert (len(trace), trace != "0" * 32, trace == trace_id_for(correlation)) == (32, True, True)

    def test_span_ids_are_stable_per_seed(self) -> None:
        """An event's span id depends on its id only."""
        assert (span_id_for("evt-1") == span_id_for("evt-1"), span_id_for("evt-1") != span_id_for("evt-2")) == (
            True,
            True,
        )


class TestTraceparent:
    def test_a_valid_header_is_read(self) -> None:
        """version-trace-parent-flags, the sampled bit from the flags."""
        parsed = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        assert parsed == TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", sampled=True)

    @pytest.mark.parametrize(
        "value",
        [
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
            "",
        ],
    )
    def test_invalid_headers_are_ignored(self, value: str) -> None:
        """Version ff, zero ids, upper case, trailing data on version 00 and garbage are not trace context."""
        assert parse_traceparent(value) is None

    def test_a_header_is_written_back_as_read(self) -> None:
        """The sampled flag round-trips."""
        value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        parsed = parse_traceparent(value)
        assert (parsed.header() if parsed else None) == value
