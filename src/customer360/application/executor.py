"""Runs one command in one unit of work and commits once.

``present`` reads what the caller answers with — the read model of what the command changed, by the
result's ids (each use case module's ``…_answer``) — inside the transaction, after a flush, so it
shows the new state. With an
Idempotency-Key, ``remember`` turns that answer into the stored response, saved in the same transaction
as the change, so a retried request can never apply the change twice. The caller renders the answer
after ``execute`` returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from customer360.application.context import Clock, RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.ports import Hasher, StoredResponse, UnitOfWork, UnitOfWorkFactory

C = TypeVar("C")
R = TypeVar("R")
V = TypeVar("V")
Handler = Callable[[C, UnitOfWork, HandlerEnv], Awaitable[R]]


class CommandExecutor:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, *, clock: Clock, phone_region: str | None, hasher: Hasher
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._phone_region = phone_region
        self._hasher = hasher

    def env(self, context: RequestContext) -> HandlerEnv:
        return HandlerEnv(context=context, clock=self._clock, phone_region=self._phone_region, hasher=self._hasher)

    @overload
    async def execute(
        self,
        context: RequestContext,
        handler: Handler[C, R],
        command: C,
        *,
        present: None = None,
        replay_key: str | None = None,
        remember: Callable[[R], StoredResponse] | None = None,
    ) -> R: ...

    @overload
    async def execute(
        self,
        context: RequestContext,
        handler: Handler[C, R],
        command: C,
        *,
        present: Callable[[R, UnitOfWork], Awaitable[V]],
        replay_key: str | None = None,
        remember: Callable[[V], StoredResponse] | None = None,
    ) -> V: ...

    async def execute(
        self,
        context: RequestContext,
        handler: Handler[C, R],
        command: C,
        *,
        present: Callable[[R, UnitOfWork], Awaitable[Any]] | None = None,
        replay_key: str | None = None,
        remember: Callable[[Any], StoredResponse] | None = None,
    ) -> Any:
        async with self._uow_factory(context) as uow:
            result = await handler(command, uow, self.env(context))
            output: Any = result
            if present is not None:
                await uow.flush(answer=True)
                output = await present(result, uow)
            if replay_key is not None and remember is not None:
                await uow.idempotency.save(replay_key, remember(output))
            await uow.commit()
        return output
