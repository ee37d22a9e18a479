"""``python -m customer360.infrastructure.persistence.embedded_guard PGDATA``: stops the embedded PostgreSQL
once the process that started it has ended, however it ended (see embedded.py).

The guard's stdin is a pipe whose other end only that process holds: end of file means it is gone (or
going: it may still be finishing its exit). The server is stopped only if no live process still uses it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from customer360.infrastructure.persistence.embedded import forget_dead_handles, running, stop_server


def main(pgdata: Path) -> None:
    parent = os.getppid()
    sys.stdin.buffer.read()
    deadline = time.monotonic() + 30.0
    while running(parent) and time.monotonic() < deadline:
        time.sleep(0.05)
    forget_dead_handles(pgdata, stop_when_unused=stop_server)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
