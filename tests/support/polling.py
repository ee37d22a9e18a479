"""Waiting for something a background task does: poll until it is there, fail (never hang) when it is not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

# Generous on purpose: a deadline here turns a hang into a failure; it measures nothing.
DEADLINE_SECONDS = 120.0


async def poll(
    probe: Callable[[], Awaitable[T | None]], *, what: str, every: float = 0.1, within: float = DEADLINE_SECONDS
) -> T:
    """The first result of ``probe`` that is not None; the test fails naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within:.0f} s")
        await asyncio.sleep(every)
