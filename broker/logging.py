"""Structured logs with structlog. Log fields, never f-strings; never an identity code."""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from broker.domain.identity_code import scrub_identity_codes


def _scrub(_: object, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """Last line of defence: mask anything shaped like an identity code in any string field."""
    return {key: scrub_identity_codes(value) if isinstance(value, str) else value for key, value in event_dict.items()}


# Libraries that log whole payloads at DEBUG (aiokafka logs every record it sends).
_PAYLOAD_LOGGERS = ("aiokafka",)


class IdentityCodeFilter(logging.Filter):
    """Masks identity codes in every standard-library log record, whoever wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with identity codes masked; never drops a record."""
        message = record.getMessage()
        scrubbed = scrub_identity_codes(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Set up structlog and the standard library's logging to write one event per line."""
    logging.basicConfig(level=level.upper(), format="%(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, IdentityCodeFilter) for f in handler.filters):
            handler.addFilter(IdentityCodeFilter())
    for name in _PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level.upper())))
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
