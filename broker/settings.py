"""Configuration, read from the environment (prefix `SILTA_`) or a `.env` file.

Every setting has a default that works for `make run` on one machine: SQLite,
a local single-node Kafka on 127.0.0.1:9092, the API on 127.0.0.1:8080.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.domain.clients import DEV_CLIENT_PARTIES, DEV_CLIENT_ROLES, ClientGrant, Role, resolve_clients
from broker.kafka.connection import SecurityProtocol

SILTA_PRINCIPAL = "silta"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


KAFKA_RECORD_LIMIT_BYTES = 1024 * 1024
"""The record size Kafka and aiokafka take by default (`message.max.bytes`, `max_request_size`)."""
SEALABLE_MESSAGE_BYTES = 640 * 1024
"""The largest document whose sealed record (base64url JWE, 4/3 of it, plus headers) stays under that limit.

A document accepted but too large to publish would be retried at the head of its outbox key for ever, so
the limit is kept at intake, where the sender still hears about it, rather than found at the relay.
"""


class Settings(BaseSettings):
    """All of Silta's settings. See README.md for what each one is for."""

    model_config = SettingsConfigDict(env_prefix="SILTA_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite+aiosqlite:///.silta/silta.db", repr=False)
    """May hold the database password: kept out of the settings' repr."""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The SASL_SSL listener (SCRAM over TLS)."""
    kafka_mtls_bootstrap_servers: str = "127.0.0.1:9093"
    """The mutual-TLS listener, for clients that authenticate with a certificate."""
    kafka_security_protocol: SecurityProtocol = SecurityProtocol.SASL_SSL
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_username: str = SILTA_PRINCIPAL
    """Silta's principal: its SCRAM user and its certificate's CN."""
    kafka_password_file: Path | None = None
    kafka_ca_file: Path | None = None
    kafka_cert_file: Path | None = None
    kafka_key_file: Path | None = None
    kafka_credentials_dir: Path = Path(".silta/kafka/credentials")
    """A folder of bus credentials (`ca.pem`, `principals/<name>/…`); the `kafka_*_file` settings win over it."""
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    """`min.insync.replicas` of the topics Silta creates: 2 on a cluster of 3; at most the replication factor."""
    kafka_create_topics: bool = True
    kafka_request_timeout_ms: int = Field(default=10_000, ge=1000)
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_workers: int = Field(default=1, ge=1)
    """Worker processes; with more than one, use PostgreSQL (relays share the outbox: README "Scale-out")."""
    public_base_url: str = ""
    """Prefix for the status URLs handed to clients; empty means relative URLs."""
    api_tls_cert_file: Path | None = None
    """PEM certificate chain for HTTPS on `silta serve` (with the key; for deployments without a TLS proxy)."""
    api_tls_key_file: Path | None = Field(default=None, validate_default=True)
    """PEM private key of that certificate, unencrypted, readable by the service alone; both or neither."""

    max_message_bytes: int = Field(default=512 * 1024, ge=1024, le=SEALABLE_MESSAGE_BYTES)
    """Largest XML document taken in; at most what fits one Kafka record once sealed (`SEALABLE_MESSAGE_BYTES`)."""
    max_xml_depth: int = Field(default=32, ge=4)
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    auth_jwks_file: Path = Path(".silta/jwks.json")
    auth_jwks_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    """The identity provider's JWKS over HTTPS; when set, the token keys come from it instead of the file."""
    auth_jwks_ca_file: Path | None = None
    """CA certificates (PEM) to trust for `auth_jwks_url` instead of the system's."""
    auth_jwks_ttl_s: float = Field(default=300, gt=0)
    """The token keys are read again once this old: a key the provider removed stops verifying within it."""
    auth_jwks_min_reread_s: float = Field(default=10, gt=0)
    """A token naming an unknown key id has the keys read again, but at most this often (failed reads too)."""
    auth_jwks_timeout_s: float = Field(default=5, gt=0)
    """Connect and read timeout of one fetch of `auth_jwks_url`."""
    auth_issuer: str = "silta-local"
    auth_audience: str = "silta"
    auth_clients: dict[str, str] = Field(default_factory=lambda: dict(DEV_CLIENT_PARTIES))
    """Token client id → the organiser it acts for (`hva-08-case-system` → `hva-08`); Kela's clients act as kela."""
    auth_client_roles: dict[str, Role] = Field(default_factory=lambda: dict(DEV_CLIENT_ROLES), validate_default=True)
    """Token client id → its role (`docs/access.md`); a client without a role is refused. Checked with the parties."""
    guardian_assertion_issuer: str = "guardian-portal"
    guardian_assertion_audience: str = "silta-guardian"
    dev_signing_key_file: Path = Path(".silta/dev-signing-key.pem")
    """Only for `silta token` in local runs; production tokens come from the identity provider."""

    pseudonym_key_file: Path = Path(".silta/pseudonym.key")
    """HMAC key for the pseudonyms in the logs; must stay the same for as long as the logs are kept."""

    retention_days: int = Field(default=90, ge=1)
    """Message bodies (and then attachments) are emptied this many days after the message's last receipt or step."""

    key_dir: Path = Path(".silta/keys")
    """Silta's record keys (Ed25519 signing, X25519 encryption, each with an id) and `ring.json`; see `silta keys`."""
    party_keys_dir: Path = Path(".silta/party-keys")
    """Local runs only: the organisers' private keys, as their case systems would hold them (`silta org keys new`)."""
    record_jwks_url: str = ""
    """Where the reference client fetches Silta's public keys; empty: this service's `/.well-known/jwks.json`."""

    audit_checkpoint_file: Path = Path(".silta/audit-checkpoints.jsonl")
    """Signed checkpoints of the log chains (JSON lines, append-only): the anchor outside the database."""
    audit_checkpoint_interval_s: float = Field(default=300, gt=0)
    """How often the service checkpoints each chain whose head moved (and once more when it stops)."""
    audit_checkpoint_enabled: bool = True
    """Run the checkpoint job in this instance (instances on one host share the file under a lock)."""

    relay_enabled: bool = True
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_interval_s: float = Field(default=1.0, gt=0)
    commit_batch_size: int = Field(default=256, ge=1)

    inbound_enabled: bool = True
    """Consume organisers' `silta.from.<org>.v1` topics."""
    inbound_group_id: str = "silta-inbound"
    inbound_max_records: int = Field(default=200, ge=1)
    inbound_max_attempts: int = Field(default=3, ge=1)
    """How often a record whose handling fails (not a rejection, not a transient fault) is tried before parking."""
    inbound_stall_seconds: float = Field(default=60, gt=0)
    """`/health/ready` names a partition that has been on one record this long while records wait behind it."""

    receipt_timeout_hours: float = Field(default=24, gt=0)
    """A message without a business receipt (or answer) this long after delivery is flagged overdue."""
    overdue_check_interval_s: float = Field(default=60, gt=0)

    schema_dir: Path = PROJECT_ROOT / "schemas"
    policy_dir: Path = PROJECT_ROOT / "policies"
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("api_tls_key_file")
    @classmethod
    def _both_or_neither(cls, key_file: Path | None, info: ValidationInfo) -> Path | None:
        """HTTPS needs the certificate and its key: refuse to start with only one of them."""
        if (key_file is None) is not (info.data.get("api_tls_cert_file") is None):
            raise ValueError("set both SILTA_API_TLS_CERT_FILE and SILTA_API_TLS_KEY_FILE for HTTPS, or neither")
        return key_file

    @field_validator("kafka_min_insync_replicas")
    @classmethod
    def _reachable_quorum(cls, min_insync: int, info: ValidationInfo) -> int:
        """More in-sync replicas than replicas would refuse every write with acks=all: refuse to start instead."""
        replication = info.data.get("kafka_replication_factor")
        if replication is not None and min_insync > replication:
            raise ValueError(
                f"SILTA_KAFKA_MIN_INSYNC_REPLICAS ({min_insync}) exceeds SILTA_KAFKA_REPLICATION_FACTOR ({replication})"
            )
        return min_insync

    @field_validator("auth_client_roles")
    @classmethod
    def _every_client_fits(cls, roles: dict[str, Role], info: ValidationInfo) -> dict[str, Role]:
        """Refuse to start unless every client has a role and each organiser's client a real organiser."""
        resolve_clients(roles, info.data.get("auth_clients", {}))
        return roles

    def clients(self) -> dict[str, ClientGrant]:
        """Every configured client: its role and the party it acts as."""
        return resolve_clients(self.auth_client_roles, self.auth_clients)
