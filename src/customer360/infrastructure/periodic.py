"""A background job of ``serve`` that runs at start and then every interval (sweeps and purges).

A failed run is logged with its exception type only (messages may quote data) and retried at the next
interval; the service keeps serving either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

_log = logging.getLogger("customer360.periodic")


class PeriodicTask:
    def __init__(self, name: str, job: Callable[[], Awaitable[object]], interval: float) -> None:
        self._name = name
        self._job = job
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while True:
            try:
                await self._job()
            except Exception as exc:  # keep serving; the next run retries
                _log.error("periodic job failed", extra={"job": self._name, "error_type": type(exc).__name__})
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
