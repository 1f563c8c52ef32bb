"""Wiring of the anchored log: which key signs checkpoints, which keys verify them, the writer and the job.

Checkpoints are signed with Silta's current record-signing key from the key
ring (`SILTA_KEY_DIR`), looked up at each signature so that a rotation takes
effect without a restart; they verify with every signing key the ring has
ever held, retired ones included: a retired key signs nothing new, but what it
signed stays history.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.checkpoints import CheckpointSigner, Ed25519Signer
from broker.crypto.keyring import LiveKeyRing, signing_keys_ever
from broker.services.checkpoints import CheckpointJob, CheckpointWriter
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings


class _RingSigner:
    """The ring's current signing key, looked up at each signature."""

    def __init__(self, ring: LiveKeyRing) -> None:
        self._ring = ring

    def current(self) -> Ed25519Signer:
        """The ring's current signing key and its id, from one snapshot of the ring."""
        signer = self._ring.current().signer
        return Ed25519Signer(signer.key, signer.key_id)


def checkpoint_signer(settings: Settings, ring: LiveKeyRing | None = None) -> CheckpointSigner:
    """Silta's current record-signing key from the ring (the service's own, if given), whichever is current."""
    return _RingSigner(ring or LiveKeyRing(settings.key_dir))


def checkpoint_verification_keys(
    settings: Settings, extra: Mapping[str, Ed25519PublicKey] | None = None
) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id: every signing key the ring has held (retired too), and any given."""
    keys: dict[str, Ed25519PublicKey] = {}
    if (settings.key_dir / "ring.json").exists():
        keys.update(signing_keys_ever(settings.key_dir))
    keys.update(extra or {})
    return keys


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (what `silta keys init` writes next to the private key)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def checkpoint_writer(
    settings: Settings, units: UnitOfWorkFactory, ring: LiveKeyRing | None = None
) -> CheckpointWriter:
    """The writer of `SILTA_AUDIT_CHECKPOINT_FILE`, signing with `checkpoint_signer`."""
    signer = checkpoint_signer(settings, ring)
    return CheckpointWriter(units, settings.audit_checkpoint_file, signer, checkpoint_verification_keys(settings))


def checkpoint_job(settings: Settings, units: UnitOfWorkFactory, ring: LiveKeyRing) -> CheckpointJob:
    """The service's periodic checkpoints, every `SILTA_AUDIT_CHECKPOINT_INTERVAL_S`, signed from its key ring."""
    return CheckpointJob(checkpoint_writer(settings, units, ring), settings.audit_checkpoint_interval_s)
