"""Fixtures of the messaging integration tests: real Tansu brokers on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka_broker import TansuBroker


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """A running broker shared by the tests of one module."""
    tansu = TansuBroker(log_path=tmp_path_factory.mktemp("tansu") / "broker.log")
    tansu.start()
    yield tansu
    tansu.stop()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A broker of its own, for a test that pauses or restarts it."""
    tansu = TansuBroker(log_path=tmp_path / "broker.log")
    tansu.start()
    yield tansu
    tansu.stop()
