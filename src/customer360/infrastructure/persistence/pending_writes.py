"""The unit of work's writes, kept in the order the use case made them, written at its flush.

A repository inside the unit of work does not write when it is called: it queues the write here
(``later``), and the unit of work's ``flush`` runs the queue, in order, before it writes the changes of
profiles it loaded. A new profile's insert is queued too, so a row that refers to it (a consent, a link,
a decision) may be queued right after it. A statement run through ``execute`` (a read, or a write whose
result the caller needs now) runs the queue first, so a use case always reads what it has written, as
it would from the in-memory fakes.

``insert_later`` queues one row of an INSERT: rows queued one after another for the same statement are
sent as one executemany (asyncpg pipelines it: one round trip), keeping the use case's order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVarTuple, overload

from sqlalchemy import CursorResult, Executable, Insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TypedReturnsRows

Write = Callable[[AsyncConnection], Awaitable[object]]
Ts = TypeVarTuple("Ts")


class SqlExecutor(Protocol):
    """What a repository runs its statements on: a connection, or the unit of work's pending writes."""

    @overload
    async def execute(self, statement: TypedReturnsRows[*Ts], parameters: Any = None) -> CursorResult[*Ts]: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]: ...


class _Rows:
    """Rows of one INSERT queued one after another: written together."""

    __slots__ = ("rows", "statement")

    def __init__(self, statement: Insert, row: dict[str, Any]) -> None:
        self.statement = statement
        self.rows = [row]

    async def __call__(self, connection: AsyncConnection) -> object:
        return await connection.execute(self.statement, self.rows)


class PendingWrites:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._queue: list[Write] = []
        # Statements run so far (reads and writes): what was read after statement N is current while this
        # is still N (SqlTransactionViews keeps the documents a flush brought back until then).
        self.statements = 0

    def later(self, write: Write) -> None:
        """Queue a write (a statement, or a few with their checks) for the next flush."""
        self._queue.append(write)

    def insert_later(self, statement: Insert, row: dict[str, Any]) -> None:
        """Queue one row of ``statement`` (the same statement object for rows meant to go together)."""
        last = self._queue[-1] if self._queue else None
        if isinstance(last, _Rows) and last.statement is statement:
            last.rows.append(row)
        else:
            self._queue.append(_Rows(statement, row))

    async def flush(self) -> None:
        """Run the queued writes in the order they were queued."""
        while self._queue:
            self.statements += 1
            await self._queue.pop(0)(self._connection)

    @overload
    async def execute(self, statement: TypedReturnsRows[*Ts], parameters: Any = None) -> CursorResult[*Ts]: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        await self.flush()
        self.statements += 1
        return await self._connection.execute(statement, parameters)
