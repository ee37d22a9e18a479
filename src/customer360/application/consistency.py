"""Read-your-writes when reads may go to a replica: a caller who just wrote must see the write.

A write's position is the primary's WAL position after its commit (a PostgreSQL LSN). The edge hands it
to the caller (``X-Read-After``, and a cookie for browsers) and reads it back from the next requests as
their *floor*: a read goes to a replica only when the replica has replayed at least that far, else to
the primary. The floor and the written position live in one holder per request, set by the edge and
read or filled by persistence, so no handler or router passes them around.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

_POSITION = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


@dataclass(slots=True)
class ReadFloor:
    required: int | None = None  # reads must see at least this position (the caller's last write)
    written: int | None = None  # the position this request's commit reached

    def wrote(self, position: int) -> None:
        self.written = position if self.written is None else max(self.written, position)

    @property
    def floor(self) -> int | None:
        """What a read in this request must see: the caller's last write, or this request's own."""
        known = [p for p in (self.required, self.written) if p is not None]
        return max(known) if known else None


_current: ContextVar[ReadFloor | None] = ContextVar("read_floor", default=None)


def begin(required: int | None) -> ReadFloor:
    floor = ReadFloor(required)
    _current.set(floor)
    return floor


def current() -> ReadFloor | None:
    return _current.get()


def parse_position(text: str) -> int | None:
    """An LSN as PostgreSQL writes it ('16/B374D848'); None when the text is not one."""
    match = _POSITION.match(text.strip())
    if match is None:
        return None
    return (int(match[1], 16) << 32) | int(match[2], 16)


def format_position(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"
