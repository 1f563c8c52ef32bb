"""How a client reaches the bus and proves who it is: TLS always, then SCRAM or a client certificate.

Every Kafka client Silta builds (the relay's producer, the inbound consumer,
the topic admin, the ACL admin, the organisers' reference client) takes a
`KafkaConnection`. There is no plaintext option: the broker has no plaintext
listener. Secrets stay in files; a connection holds only their paths, so its
repr, logs and settings dumps never show a password.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from aiokafka.helpers import create_ssl_context

_T = TypeVar("_T")


class SecurityProtocol(StrEnum):
    """The two ways in: SCRAM over TLS, or mutual TLS with a client certificate."""

    SASL_SSL = "SASL_SSL"
    SSL = "SSL"


class KafkaCredentialsError(ValueError):
    """A connection names a credential file that is missing, or lacks one its protocol needs."""


@dataclass(frozen=True)
class KafkaConnection:
    """The broker addresses and the credentials of one principal."""

    bootstrap_servers: str
    ca_file: Path
    protocol: SecurityProtocol = SecurityProtocol.SASL_SSL
    username: str | None = None
    password_file: Path | None = None
    sasl_mechanism: str = "SCRAM-SHA-512"
    cert_file: Path | None = None
    key_file: Path | None = None

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments every aiokafka client takes to connect as this principal."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.protocol.value,
            "ssl_context": self.ssl_context(),
        }
        if self.protocol is SecurityProtocol.SASL_SSL:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self._required(self.username, "a SCRAM user name"),
                "sasl_plain_password": self.password(),
            }
        return options

    def ssl_context(self) -> ssl.SSLContext:
        """A TLS context trusting only the bus's CA; with mutual TLS, also presenting the client certificate."""
        _must_exist(self.ca_file, "the CA certificate")
        if self.protocol is SecurityProtocol.SSL:
            cert = _must_exist(self._required(self.cert_file, "a client certificate"), "the client certificate")
            key = _must_exist(self._required(self.key_file, "a client key"), "the client key")
            context: ssl.SSLContext = create_ssl_context(cafile=str(self.ca_file), certfile=str(cert), keyfile=str(key))
        else:
            context = create_ssl_context(cafile=str(self.ca_file))
        return context

    def password(self) -> str:
        """The SCRAM password, read from its file now (so a rotated file is picked up at the next connect)."""
        path = _must_exist(self._required(self.password_file, "a password file"), "the SCRAM password file")
        return path.read_text().strip()

    def _required(self, value: _T | None, what: str) -> _T:
        if value is None:
            raise KafkaCredentialsError(f"a {self.protocol.value} connection needs {what}")
        return value


def _must_exist(path: Path, what: str) -> Path:
    if not path.is_file():
        raise KafkaCredentialsError(f"{what} is not at {path}")
    return path
