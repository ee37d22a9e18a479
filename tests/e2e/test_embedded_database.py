"""The zero-configuration database: ``serve`` without DATABASE_URL starts, and stops, its own PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.support.service import ServiceProcess


def _running(pid: int) -> bool:
    """Alive and not a zombie (the postmaster is re-parented to init, which may reap it late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_stopping_the_service_stops_the_embedded_postgresql_and_keeps_its_data(tmp_path: Path) -> None:
    """SIGTERM ends the service and the embedded PostgreSQL it started; the data directory stays."""
    pgdata = tmp_path / "data" / "pgdata"
    service = ServiceProcess("", tmp_path / "service.log", DATA_DIR=str(tmp_path / "data"))
    service.start(timeout=120)
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    running_while_serving = _running(postmaster)
    service.stop()
    assert (running_while_serving, _running(postmaster), (pgdata / "PG_VERSION").exists()) == (True, False, True)
