"""Starting a tenant's background job (a duplicate scan, an import) for the API.

A job runs as a ``customer360 <command> --tenant … --job …`` process by default: the work is CPU-bound,
so the server's event loop and memory stay out of it. ``inline`` runs it inside the server (tests, the
console's demo). A job this launcher has already started and that has not ended is not started again,
so repeated requests before the job's process claims it do not start one process each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from sqlalchemy.engine import URL

Runner = Literal["process", "inline"]


class JobLauncher:
    """Runs jobs by id, each at most once at a time, as processes or inline; failures are logged by type."""

    def __init__(
        self,
        admin_url: URL,
        *,
        command: Sequence[str],
        runner: Runner,
        run_inline: Callable[[str, str], Awaitable[object]],
        log: logging.Logger,
    ) -> None:
        self._admin_url = admin_url
        self._command = tuple(command)
        self._runner = runner
        self._run_inline = run_inline
        self._log = log
        self._running: dict[tuple[str, str], asyncio.Task[object]] = {}

    def start(self, tenant_id: str, job_id: str) -> bool:
        """Start the job unless this launcher runs it already; says whether it was started."""
        key = (tenant_id, job_id)
        if key in self._running:
            return False
        coroutine = self._inline(tenant_id, job_id) if self._runner == "inline" else self._process(tenant_id, job_id)
        task: asyncio.Task[object] = asyncio.create_task(coroutine)
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))
        return True

    async def _inline(self, tenant_id: str, job_id: str) -> object:
        try:
            return await self._run_inline(tenant_id, job_id)
        except Exception as exc:  # the job row records where it stopped; the log gets the type only
            self._log.warning("job failed", extra={"jobId": job_id, "error": type(exc).__name__})
            return None

    async def _process(self, tenant_id: str, job_id: str) -> object:
        env = {
            **os.environ,
            "DATABASE_URL": self._admin_url.render_as_string(hide_password=False),
            "MIGRATE_ON_START": "false",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "customer360",
            *self._command,
            "--tenant",
            tenant_id,
            "--job",
            job_id,
            "--quiet",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )
        code = await process.wait()
        if code:
            self._log.warning("job process failed", extra={"jobId": job_id, "exitCode": code})
        return code

    async def wait(self) -> None:
        """Until the jobs started so far have run (tests)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop inline jobs (they resume later); job processes run on by themselves."""
        for task in list(self._running.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
