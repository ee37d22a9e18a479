"""CPU-bound work on another core: a function run in a child process forked from this one.

The child starts with this process's memory as it is (copy-on-write), so the function's inputs — tens of
thousands of prepared records — are never pickled; only its result comes back, through a pipe. Meant
for the scan's own process (``customer360 dedup scan``), not for the server: a fork copies every
thread's state but runs only the caller's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class ForkedFunctionFailed(RuntimeError):
    """The function raised in the child (the exception's type is its message), or the child died."""


def _child(function: Callable[[], Any], sending: Connection) -> None:
    try:
        outcome: tuple[bool, Any] = (True, function())
    except BaseException as error:  # reported to the parent, which raises
        outcome = (False, type(error).__name__)
    sending.send(outcome)
    sending.close()


def _receive(receiving: Connection) -> tuple[bool, Any]:
    try:
        return receiving.recv()  # type: ignore[no-any-return]
    except EOFError:
        return False, "the child process ended without an answer"


async def in_forked_process(function: Callable[[], T]) -> T:
    """``function()`` computed in a forked child process; raises ForkedFunctionFailed if it raised there."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, sending), daemon=True)
    process.start()
    sending.close()
    try:
        ok, value = await asyncio.to_thread(_receive, receiving)
    except BaseException:
        process.kill()  # cancelled: the receiving thread then reads the end of the pipe and stops
        await asyncio.shield(asyncio.to_thread(process.join))
        raise
    finally:
        receiving.close()
    if not ok:
        await asyncio.to_thread(process.join)
        raise ForkedFunctionFailed(value)
    # The answer is in: the child only has to exit, and unmapping its copy of this process's memory takes
    # 5-30 ms at 20,000 customers; it is reaped by a thread of its own instead of delaying the caller.
    threading.Thread(target=process.join, name="forked-reaper", daemon=True).start()
    return value  # type: ignore[no-any-return]
