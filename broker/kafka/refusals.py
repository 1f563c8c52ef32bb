"""When the bus refuses Silta's own clients: counted and logged, so an operator sees it where Silta sees it.

A wrong SCRAM password, a certificate from another CA or a missing ACL shows
up in aiokafka as an authentication, authorisation or TLS error, often wrapped
in a connection error: `note_if_refused` finds it in the chain. At bootstrap
aiokafka only logs the cause and raises a bare connection error, so
`watch_aiokafka_refusals` notes the refusals in its log records.
"""

from __future__ import annotations

import logging
import ssl

import structlog
from aiokafka.errors import (
    AuthenticationFailedError,
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    UnsupportedSaslMechanismError,
)

from broker.metrics import KAFKA_REFUSALS

log = structlog.get_logger(__name__)

_REFUSALS: tuple[type[BaseException], ...] = (
    AuthenticationFailedError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    ClusterAuthorizationFailedError,
    ssl.SSLError,
)


def refusal_in(error: BaseException | None) -> BaseException | None:
    """The authentication, authorisation or TLS error in `error`'s chain, if there is one."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, _REFUSALS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def note_if_refused(client: str, error: BaseException) -> bool:
    """Count and log `error` if the bus refused `client`; True if it did."""
    refusal = refusal_in(error)
    if refusal is None:
        return False
    reason = type(refusal).__name__
    KAFKA_REFUSALS.labels(client=client, reason=reason).inc()
    log.error("kafka_refused", client=client, reason=reason, detail=str(refusal)[:300])
    return True


class _BootstrapRefusals(logging.Filter):
    """aiokafka logs a refused bootstrap connection and raises a bare "unable to bootstrap": count it from the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Note any refusal among the record's arguments; never drops the record."""
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            if isinstance(arg, BaseException) and note_if_refused("kafka-connection", arg):
                break
        return True


_WATCH = _BootstrapRefusals()


def watch_aiokafka_refusals() -> None:
    """Count and log the refusals aiokafka only logs (idempotent; the composition root calls it)."""
    for name in ("aiokafka", "aiokafka.conn"):
        logger = logging.getLogger(name)
        if _WATCH not in logger.filters:
            logger.addFilter(_WATCH)
