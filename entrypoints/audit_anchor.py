"""Wiring of the anchored log: which key signs checkpoints, which keys verify them, the writer and the job.

The key ring seam is here and only here: `checkpoint_signer` (the key that
signs new checkpoints) and `checkpoint_verification_keys` (every public key by
key id that checkpoints may carry). Today both come from
`SILTA_RECORD_SIGNING_KEY_FILE` / `SILTA_RECORD_SIGNING_KEY_ID`; a key ring
hands over its current key (anything with `key_id` and `sign(data) -> bytes`)
and its live and retired public keys as a mapping, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.checkpoints import CheckpointSigner, Ed25519Signer
from broker.crypto.keys import load_ed25519_key
from broker.services.checkpoints import CheckpointJob, CheckpointWriter
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings


def checkpoint_signer(settings: Settings) -> CheckpointSigner:
    """Silta's current signing key and its id (the record-signing key; a key ring's current key later)."""
    return Ed25519Signer(load_ed25519_key(settings.record_signing_key_file), settings.record_signing_key_id)


def checkpoint_verification_keys(
    settings: Settings, extra: Mapping[str, Ed25519PublicKey] | None = None
) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id: the configured signing key's (if its file is here) and any given, e.g. retired ones."""
    keys: dict[str, Ed25519PublicKey] = {}
    if settings.record_signing_key_file.exists():
        keys[settings.record_signing_key_id] = load_ed25519_key(settings.record_signing_key_file).public_key()
    keys.update(extra or {})
    return keys


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (what `silta keys init` writes next to the private key)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def checkpoint_writer(settings: Settings, units: UnitOfWorkFactory) -> CheckpointWriter:
    """The writer of `SILTA_AUDIT_CHECKPOINT_FILE`, signing with `checkpoint_signer`."""
    return CheckpointWriter(
        units, settings.audit_checkpoint_file, checkpoint_signer(settings), checkpoint_verification_keys(settings)
    )


def checkpoint_job(settings: Settings, units: UnitOfWorkFactory) -> CheckpointJob:
    """The service's periodic checkpoints, every `SILTA_AUDIT_CHECKPOINT_INTERVAL_S`."""
    return CheckpointJob(checkpoint_writer(settings, units), settings.audit_checkpoint_interval_s)
