"""The zero-configuration database: ``serve`` without DATABASE_URL starts, and stops, its own PostgreSQL —
also when it is killed with SIGKILL, which runs none of its exit handlers."""

from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.service import ServiceProcess


def _running(pid: int) -> bool:
    """Alive and not a zombie (the postmaster is re-parented to init, which may reap it late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _postmaster(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


def _gone(pid: int, polls: int = 600) -> bool:
    """Whether the process ends within polls × 0.1 s (a bound against hanging, not a performance limit)."""
    for _ in range(polls):
        if not _running(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's base directory, which each pytest session makes private (0700): the embedded
    PostgreSQL runs as an unprivileged user when we are root and must reach its data directory."""
    with tempfile.TemporaryDirectory(prefix="c360-serve-") as directory:
        yield Path(directory)


def _embedded_service(data_dir: Path, tmp_path: Path) -> ServiceProcess:
    return ServiceProcess("", tmp_path / "service.log", DATA_DIR=str(data_dir))


def _kill(process: ServiceProcess) -> None:
    assert process.process is not None
    process.process.send_signal(signal.SIGKILL)
    process.process.wait()
    process.process = None


class TestEmbeddedPostgresLifecycle:
    def test_stopping_the_service_stops_the_embedded_postgresql_and_keeps_its_data(
        self, data_dir: Path, tmp_path: Path
    ) -> None:
        """SIGTERM ends the service and the embedded PostgreSQL it started; the data directory stays."""
        pgdata = data_dir / "pgdata"
        service = _embedded_service(data_dir, tmp_path)
        service.start(timeout=120)
        postmaster = _postmaster(pgdata)
        running_while_serving = _running(postmaster)
        service.stop()
        assert (running_while_serving, _running(postmaster), (pgdata / "PG_VERSION").exists()) == (True, False, True)

    def test_a_service_killed_with_sigkill_leaves_no_postgresql_running(self, data_dir: Path, tmp_path: Path) -> None:
        """The guard the service left behind sees it die and stops the server nobody uses any more."""
        service = _embedded_service(data_dir, tmp_path)
        service.start(timeout=120)
        postmaster = _postmaster(data_dir / "pgdata")
        _kill(service)
        assert _gone(postmaster)

    def test_a_server_orphaned_by_sigkill_is_adopted_by_the_next_start_and_stopped_by_its_stop(
        self, data_dir: Path, tmp_path: Path
    ) -> None:
        """With its guard killed too, the server stays orphaned; the next start takes it over (stale handle
        dropped), and the next clean stop stops it again."""
        pgdata = data_dir / "pgdata"
        first = _embedded_service(data_dir, tmp_path)
        first.start(timeout=120)
        assert first.process is not None
        guards = [
            child
            for child in psutil.Process(first.process.pid).children()
            if "embedded_guard" in " ".join(child.cmdline())
        ]
        for guard in guards:
            guard.kill()
        orphan = _postmaster(pgdata)
        _kill(first)
        orphaned = _running(orphan)
        second = _embedded_service(data_dir, tmp_path)
        second.start(timeout=120)
        adopted = _postmaster(pgdata) == orphan
        second.stop()
        assert (len(guards), orphaned, adopted, _gone(orphan)) == (1, True, True, True)
