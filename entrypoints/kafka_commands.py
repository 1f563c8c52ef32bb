"""`silta kafka acls|client-config` and the bus options of `silta org listen|send`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from broker.domain.parties import is_organiser
from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import desired_acls
from broker.kafka.connection import KafkaConnection, SecurityProtocol
from broker.kafka.credentials import SILTA_PRINCIPAL, CredentialFolder, silta_connection
from broker.settings import Settings


def add_bus_options(parser: argparse.ArgumentParser) -> None:
    """How an organiser's command connects; by default its own credentials in the local credentials folder."""
    bus = parser.add_argument_group("bus connection (default: the party's files in SILTA_KAFKA_CREDENTIALS_DIR)")
    bus.add_argument("--bootstrap-servers", default=None, help="default: SILTA_KAFKA_(MTLS_)BOOTSTRAP_SERVERS")
    bus.add_argument("--security-protocol", choices=[p.value for p in SecurityProtocol], default="SASL_SSL")
    bus.add_argument("--sasl-mechanism", default="SCRAM-SHA-512")
    bus.add_argument("--username", default=None, help="SCRAM user (default: the organiser id)")
    bus.add_argument("--password-file", type=Path, default=None, help="a file holding the SCRAM password")
    bus.add_argument("--ca-file", type=Path, default=None, help="the CA certificate of the brokers (PEM)")
    bus.add_argument("--cert-file", type=Path, default=None, help="client certificate (PEM), with SSL")
    bus.add_argument("--key-file", type=Path, default=None, help="client key (PEM), with SSL")


def party_connection(args: argparse.Namespace, party: str, settings: Settings) -> KafkaConnection:
    """The connection `silta org …` uses for `party`: the options given, the rest from the credentials folder."""
    folder = CredentialFolder(settings.kafka_credentials_dir)
    protocol = SecurityProtocol(args.security_protocol)
    default_servers = (
        settings.kafka_mtls_bootstrap_servers if protocol is SecurityProtocol.SSL else settings.kafka_bootstrap_servers
    )
    username = args.username or party
    return KafkaConnection(
        args.bootstrap_servers or default_servers,
        args.ca_file or folder.ca_file,
        protocol,
        username=username,
        password_file=args.password_file or folder.password_file(username),
        sasl_mechanism=args.sasl_mechanism,
        cert_file=args.cert_file or folder.cert_file(party),
        key_file=args.key_file or folder.key_file(party),
    )


def client_properties(party: str, settings: Settings, *, mtls: bool) -> list[str]:
    """A Kafka client properties file for `party`, in librdkafka's spelling (`kcat -F FILE`)."""
    folder = CredentialFolder(settings.kafka_credentials_dir.resolve())
    connection = folder.connection(
        party, settings.kafka_mtls_bootstrap_servers if mtls else settings.kafka_bootstrap_servers, mtls=mtls
    )
    lines = [
        f"# Silta bus client configuration for {party}",
        f"bootstrap.servers={connection.bootstrap_servers}",
        f"security.protocol={connection.protocol.value}",
        f"ssl.ca.location={connection.ca_file}",
    ]
    if mtls:
        return [*lines, f"ssl.certificate.location={connection.cert_file}", f"ssl.key.location={connection.key_file}"]
    sasl = [f"sasl.mechanisms={settings.kafka_sasl_mechanism}", f"sasl.username={party}"]
    return [*lines, *sasl, f"sasl.password={connection.password()}"]


def cmd_kafka_client_config(args: argparse.Namespace) -> int:
    """Print the client properties a party connects with: SCRAM over TLS, or with --mtls its certificate."""
    party: str = args.party
    if party != SILTA_PRINCIPAL and not is_organiser(party) and not party.startswith("kunta-"):
        print(f"error: {party!r} is not a party of the bus (an organiser id, kunta-NNN or silta)")
        return 2
    try:
        lines = client_properties(party, Settings(), mtls=args.mtls)
    except OSError as error:
        print(f"error: no credentials for {party}: {error.strerror}: {error.filename}")
        return 1
    print("\n".join(lines))
    return 0


async def _acls(apply: bool) -> list[str]:
    async with AclAdmin(silta_connection(Settings())) as admin:
        change = await (admin.apply(desired_acls()) if apply else admin.diff(desired_acls()))
    return change.lines()


def cmd_kafka_acls(args: argparse.Namespace) -> int:
    """Print how the cluster's ACLs differ from the party registry's (+ missing, - extra); --apply makes them match.

    Exit 0 when in sync (or after applying), 1 when a difference is left.
    """
    lines = asyncio.run(_acls(args.apply))
    for line in lines:
        print(line)
    verb = "applied" if args.apply else "differ"
    print(f"{len(lines)} ACL bindings {verb}" if lines else "ACLs in sync with the party registry")
    return 1 if lines and not args.apply else 0


def add_kafka_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`silta kafka acls [--apply]` and `silta kafka client-config PARTY [--mtls]`."""
    kafka = commands.add_parser("kafka", help="the bus's principals and ACLs").add_subparsers(
        dest="kafka_command", required=True
    )
    acls = kafka.add_parser("acls", help=cmd_kafka_acls.__doc__)
    acls.add_argument("--apply", action="store_true", help="add the missing bindings and remove the extra ones")
    acls.set_defaults(handler=cmd_kafka_acls)
    config = kafka.add_parser("client-config", help=cmd_kafka_client_config.__doc__)
    config.add_argument("party", help="an organiser id (hva-08), a municipality (kunta-091) or silta")
    config.add_argument("--mtls", action="store_true", help="certificate and key instead of SCRAM")
    config.set_defaults(handler=cmd_kafka_client_config)
