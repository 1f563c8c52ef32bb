"""Where a principal's bus credentials live, and the connection Silta itself uses.

A credentials folder holds the CA certificate that signs the brokers' and the
clients' certificates, and per principal (a party id, `silta`, or the broker)
a SCRAM password, a client certificate and its key:

    ca.pem
    principals/<name>/password
    principals/<name>/cert.pem
    principals/<name>/key.pem

`make run` and the tests make such a folder with a local CA; a deployment
hands each principal its own files. Explicit file settings win over the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.kafka.connection import KafkaConnection, SecurityProtocol
from broker.settings import SILTA_PRINCIPAL, Settings

__all__ = ["BROKER_PRINCIPAL", "SILTA_PRINCIPAL", "CredentialFolder", "silta_connection"]
BROKER_PRINCIPAL = "silta-kafka-broker"
"""The brokers' and controllers' principal, from the CN of their certificate."""


@dataclass(frozen=True)
class CredentialFolder:
    """The layout of a folder of bus credentials."""

    root: Path

    @property
    def ca_file(self) -> Path:
        """The CA certificate every party trusts the brokers by."""
        return self.root / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        """The local CA's private key (only in a development folder)."""
        return self.root / "ca-key.pem"

    def principal_dir(self, name: str) -> Path:
        """The folder of one principal's credentials."""
        return self.root / "principals" / name

    def password_file(self, name: str) -> Path:
        """The principal's SCRAM password."""
        return self.principal_dir(name) / "password"

    def cert_file(self, name: str) -> Path:
        """The principal's certificate (CN = its name)."""
        return self.principal_dir(name) / "cert.pem"

    def key_file(self, name: str) -> Path:
        """The principal's private key."""
        return self.principal_dir(name) / "key.pem"

    def connection(self, name: str, bootstrap_servers: str, *, mtls: bool = False) -> KafkaConnection:
        """A connection as `name`: SCRAM over TLS, or with `mtls` its certificate (give the mTLS listener)."""
        if mtls:
            return KafkaConnection(
                bootstrap_servers,
                self.ca_file,
                SecurityProtocol.SSL,
                cert_file=self.cert_file(name),
                key_file=self.key_file(name),
            )
        return KafkaConnection(bootstrap_servers, self.ca_file, username=name, password_file=self.password_file(name))


def silta_connection(settings: Settings) -> KafkaConnection:
    """Silta's own connection from the settings: explicit files first, else the credentials folder."""
    folder = CredentialFolder(settings.kafka_credentials_dir)
    name = settings.kafka_username
    mtls = settings.kafka_security_protocol is SecurityProtocol.SSL
    return KafkaConnection(
        settings.kafka_mtls_bootstrap_servers if mtls else settings.kafka_bootstrap_servers,
        settings.kafka_ca_file or folder.ca_file,
        settings.kafka_security_protocol,
        username=name,
        password_file=settings.kafka_password_file or folder.password_file(name),
        sasl_mechanism=settings.kafka_sasl_mechanism,
        cert_file=settings.kafka_cert_file or folder.cert_file(name),
        key_file=settings.kafka_key_file or folder.key_file(name),
    )
