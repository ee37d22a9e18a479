"""Read-your-writes positions: PostgreSQL's LSN text, and what a request names as its floor."""

from __future__ import annotations

import pytest

from customer360.application import consistency
from customer360.infrastructure.rest.read_after_write import requested_floor


class TestPositions:
    @pytest.mark.parametrize("text", ["0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF"])
    def test_a_position_reads_back_as_written(self, text: str) -> None:
        """format(parse(x)) == x for PostgreSQL's spelling of an LSN."""
        parsed = consistency.parse_position(text)
        assert parsed is not None
        assert consistency.format_position(parsed) == text

    def test_positions_order_as_the_wal_does(self) -> None:
        """1/0 is after 0/FFFFFFFF (the high half counts first)."""
        assert consistency.parse_position("1/0") > consistency.parse_position("0/FFFFFFFF")  # type: ignore[operator]

    @pytest.mark.parametrize("text", ["", "16", "16/", "/1", "G/1", "1/2/3", "123456789/1", "1/0\x00"])
    def test_anything_else_is_no_position(self, text: str) -> None:
        """Malformed values are not positions."""
        assert consistency.parse_position(text) is None

    def test_the_floor_is_the_later_of_the_callers_write_and_this_requests(self) -> None:
        """A request that writes reads at least its own write."""
        floor = consistency.ReadFloor(required=5)
        floor.wrote(9)
        floor.wrote(7)
        assert (floor.written, floor.floor) == (9, 9)


class TestRequestedFloor:
    def _scope(self, *headers: tuple[bytes, bytes]) -> dict[str, object]:
        return {"type": "http", "headers": list(headers)}

    def test_the_header_names_the_floor(self) -> None:
        """X-Read-After: 0/10 is position 16."""
        assert requested_floor(self._scope((b"x-read-after", b"0/10"))) == 16

    def test_the_cookie_names_the_floor(self) -> None:
        """The cookie counts among other cookies."""
        assert requested_floor(self._scope((b"cookie", b"a=b; c360-read-after=0/20; x=y"))) == 32

    def test_the_later_of_header_and_cookie_wins(self) -> None:
        """Header and cookie: the higher position."""
        scope = self._scope((b"x-read-after", b"0/10"), (b"cookie", b"c360-read-after=0/20"))
        assert requested_floor(scope) == 32

    def test_a_malformed_value_is_ignored(self) -> None:
        """A value that is no position sets no floor."""
        assert requested_floor(self._scope((b"x-read-after", b"'; DROP"), (b"cookie", b"c360-read-after=\x00"))) is None
