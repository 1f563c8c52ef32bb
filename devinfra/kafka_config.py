"""The local broker's configuration: secured by default, no plaintext listener anywhere.

Four listeners on 127.0.0.1, all TLS:
- `SASL_SSL` for clients with SCRAM-SHA-512 (users created when the storage is formatted);
- `MTLS` for clients with a certificate, the principal taken from its CN;
- `INTERNAL` broker to broker, and `CONTROLLER` to the KRaft quorum, both with mutual TLS.
`StandardAuthorizer` denies whatever no ACL allows; the only super users are
the broker's own principal and Silta's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.kafka.credentials import BROKER_PRINCIPAL, SILTA_PRINCIPAL, CredentialFolder
from devinfra.ports import free_port

SCRAM_MECHANISM = "SCRAM-SHA-512"
# Kafka gives the subject in RFC 2253 order ("CN=hva-08,O=…"): take the CN wherever it stands.
PRINCIPAL_MAPPING = "RULE:^(?:.*,)?CN=([^,]+)(?:,.*)?$/$1/,DEFAULT"


@dataclass(frozen=True)
class KafkaPorts:
    """The ports of one local broker's four listeners."""

    sasl: int
    mtls: int
    internal: int
    controller: int

    @classmethod
    def free(cls, sasl: int | None = None, mtls: int | None = None) -> KafkaPorts:
        """Ports nothing listens on now; the client-facing two may be given."""
        return cls(sasl or free_port(), mtls or free_port(), free_port(), free_port())


def server_properties(data_dir: Path, ports: KafkaPorts, keystore: Path, folder: CredentialFolder) -> dict[str, str]:
    """`server.properties` of a combined broker and controller (node 1)."""
    host = "127.0.0.1"
    client_listeners = f"SASL_SSL://{host}:{ports.sasl},MTLS://{host}:{ports.mtls},INTERNAL://{host}:{ports.internal}"
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{ports.controller}",
        "listeners": f"{client_listeners},CONTROLLER://{host}:{ports.controller}",
        "advertised.listeners": client_listeners,
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,MTLS:SSL,INTERNAL:SSL,CONTROLLER:SSL",
        "inter.broker.listener.name": "INTERNAL",
        "controller.listener.names": "CONTROLLER",
        **security_properties(keystore, folder),
        **_storage(data_dir),
    }


def security_properties(keystore: Path, folder: CredentialFolder) -> dict[str, str]:
    """TLS on every listener, SCRAM on SASL_SSL, deny by default: the same on one broker and on a cluster."""
    return {**_tls(keystore, folder), **_sasl(), **_authorizer()}


def _tls(keystore: Path, folder: CredentialFolder) -> dict[str, str]:
    return {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(folder.ca_file),
        "ssl.client.auth": "required",
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "ssl.principal.mapping.rules": PRINCIPAL_MAPPING,
    }


def _sasl() -> dict[str, str]:
    return {
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.sasl_ssl.ssl.client.auth": "none",
        "listener.name.sasl_ssl.sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
    }


def _authorizer() -> dict[str, str]:
    return {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{BROKER_PRINCIPAL};User:{SILTA_PRINCIPAL}",
    }


def _storage(data_dir: Path) -> dict[str, str]:
    return {
        "log.dirs": str(data_dir / "logs"),
        "num.partitions": "3",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
    }


def scram_arguments(folder: CredentialFolder, principals: list[str]) -> list[str]:
    """`kafka-storage format` options creating a SCRAM user per principal, with the password in its file."""
    arguments: list[str] = []
    for name in principals:
        password = folder.password_file(name).read_text().strip()
        arguments += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]"]
    return arguments
