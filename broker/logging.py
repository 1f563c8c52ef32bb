"""Structured logs with structlog. Log fields, never f-strings; never an identity code.

Every line the process writes is one JSON object (or, with `log_json` off, one
readable console line): structlog's own events and the standard library's
records alike (uvicorn's access and error logs, aiokafka, SQLAlchemy, warnings),
rendered by one `structlog.stdlib.ProcessorFormatter` on the root handler.
Request-scoped fields bound with `structlog.contextvars` (the request id) appear
on both kinds of line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import Processor

from broker.domain.identity_code import scrub_identity_codes


def _scrub(_: object, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """Last line of defence: mask anything shaped like an identity code in any string field."""
    return {key: scrub_identity_codes(value) if isinstance(value, str) else value for key, value in event_dict.items()}


# Libraries that log whole payloads at DEBUG (aiokafka logs every record it sends).
_PAYLOAD_LOGGERS = ("aiokafka",)
# Loggers that bring handlers of their own; theirs are removed so that each line is written once, as JSON.
_OWN_HANDLER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class IdentityCodeFilter(logging.Filter):
    """Masks identity codes in every standard-library log record, whoever wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with identity codes masked; never drops a record.

        structlog's own events (a dict as the message) are left to `_scrub`, which masks each field.
        """
        if isinstance(record.msg, dict):
            return True
        message = record.getMessage()
        scrubbed = scrub_identity_codes(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


class _SiltaHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs; replaced, not doubled, when the app is built again."""


def _shared_processors() -> list[Processor]:
    """What both structlog events and standard-library records go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _handler(json: bool) -> logging.Handler:
    """A stderr handler that renders every record through structlog's chain."""
    renderer: Processor = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _scrub,
            renderer,
        ],
    )
    handler = _SiltaHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(IdentityCodeFilter())
    return handler


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Set up structlog and the standard library's logging to write one event per line, through one handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _SiltaHandler)]:
        root.removeHandler(old)
    root.addHandler(_handler(json))
    root.setLevel(level.upper())
    for name in _OWN_HANDLER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in _PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level.upper())))
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
