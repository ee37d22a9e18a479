"""Operability at start-up and in the logs: --version, development keys refused beyond loopback, plain JSON logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from importlib.metadata import version

import pytest
from prometheus_client import generate_latest
from typer.testing import CliRunner

from customer360 import cli
from customer360.infrastructure.metrics import new_registry
from customer360.infrastructure.observability import configure_logging
from customer360.settings import Settings


def _settings(**values: object) -> Settings:
    return Settings.model_validate(values)


class TestVersion:
    def test_version_prints_the_installed_version(self) -> None:
        """customer360 --version answers without starting anything."""
        result = CliRunner().invoke(cli.app, ["--version"])
        assert (result.exit_code, result.stdout.strip()) == (0, f"crm-customer360 {version('customer360')}")


class TestDevelopmentKeys:
    @pytest.mark.parametrize(
        ("host", "beyond"),
        [
            ("127.0.0.1", False),
            ("::1", False),
            ("localhost", False),
            ("127.0.0.2", False),
            ("0.0.0.0", True),  # noqa: S104
            ("::", True),
            ("10.1.2.3", True),
            ("api.example", True),
        ],
    )
    def test_loopback_is_told_from_everything_else(self, host: str, beyond: bool) -> None:
        """Loopback addresses and localhost stay on the machine; any other address or host name does not."""
        assert _settings(http_host=host).listens_beyond_loopback() is beyond

    def test_keys_left_at_the_default_are_named(self) -> None:
        """Each key is judged on its own."""
        assert _settings(evidence_hash_key="a-secret").development_keys() == ["SUPPRESSION_HASH_KEY"]

    def test_serve_refuses_to_listen_beyond_loopback_with_development_keys(self) -> None:
        """Exit code 2 and both variables named, before any database is started."""
        env = {"HTTP_HOST": "0.0.0.0", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}  # noqa: S104
        result = CliRunner().invoke(cli.app, ["serve"], env=env)
        assert (result.exit_code, "EVIDENCE_HASH_KEY and SUPPRESSION_HASH_KEY" in result.stderr) == (2, True)

    def test_consume_refuses_too(self) -> None:
        """The consumer hashes with the same keys (suppression list on lead intake)."""
        env = {"HTTP_HOST": "0.0.0.0", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "SUPPRESSION_HASH_KEY": "s"}  # noqa: S104
        result = CliRunner().invoke(cli.app, ["consume"], env=env)
        assert (result.exit_code, "EVIDENCE_HASH_KEY still" in result.stderr) == (2, True)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


class TestJsonLogs:
    def test_uvicorns_coloured_message_copy_is_dropped(
        self, restored_logging: None, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """uvicorn's color_message extra would put ANSI escape codes inside the JSON line."""
        configure_logging("INFO", json=True)
        logging.getLogger("uvicorn.error").info(
            "Finished server process [%d]", 42, extra={"color_message": "Finished server process [\x1b[36m%d\x1b[0m]"}
        )
        line = capsys.readouterr().err.strip()
        assert ("\\u001b" in line, "\x1b" in line, json.loads(line)["event"]) == (
            False,
            False,
            "Finished server process [42]",
        )


class TestMetricsRegistry:
    def test_every_series_carries_the_service_prefix_including_process_and_gc(self) -> None:
        """Process, GC and platform collectors are there, renamed under crm_customer360_."""
        exposition = generate_latest(new_registry()).decode()
        names = {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if not line.startswith("#")}
        assert {n for n in names if not n.startswith("crm_customer360_")} == set()
        assert {"crm_customer360_process_cpu_seconds_total", "crm_customer360_python_gc_collections_total"} <= names
