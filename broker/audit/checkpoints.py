"""Signed checkpoints of the hash chains: what the head was, when, attested by Silta's key.

A chain's own head row proves nothing against whoever can write the database:
delete the newest entries, point the head at the entry before them, and the
chain verifies. A checkpoint — chain, head sequence number, head hash, entry
count, time — signed with Silta's Ed25519 key and kept outside the database
(`broker/audit/checkpoint_file.py`) is what the chain must still agree with.

The signature covers a canonical encoding (`canonical_bytes`): a fixed
domain prefix, then JSON with sorted keys and no spaces, ASCII only. The prefix
keeps a checkpoint signature from ever being mistaken for a record signature
made with the same key (those cover newline-separated headers ending in a
SHA-256 in hex, never a `{`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DOMAIN = b"silta-audit-checkpoint/v1\n"
VERSION = 1
_FIELDS = {"v", "chain", "seq", "head_hash", "count", "at", "key_id", "signature"}


class CheckpointSigner(Protocol):
    """Whatever signs checkpoints: one key, or the current key of a key ring."""

    def current(self) -> Ed25519Signer:
        """The key the next checkpoint is signed with, its id and private key taken together.

        One call gives both, so a key ring rotated between reading the id and
        signing cannot produce a checkpoint that names one key and carries
        another's signature.
        """
        ...


@dataclass(frozen=True)
class Ed25519Signer:
    """A single Ed25519 private key under a key id."""

    private_key: Ed25519PrivateKey
    key_id: str

    def sign(self, data: bytes) -> bytes:
        """Sign `data` with the private key."""
        return self.private_key.sign(data)

    def current(self) -> Ed25519Signer:
        """Itself: a single key is always the current one."""
        return self


@dataclass(frozen=True)
class ChainHead:
    """Where a chain stood: its last sequence number and that entry's hash."""

    chain: str
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A chain's head, attested at a time by the key `key_id`."""

    chain: str
    seq: int
    head_hash: str
    count: int
    """Entries the head covers; the chain numbers them from 1, so a sound chain has `count == seq`."""
    at: str
    """ISO 8601 time in UTC when the checkpoint was taken."""
    key_id: str
    signature: str
    """Base64url of the Ed25519 signature over `canonical_bytes`."""

    def canonical(self) -> bytes:
        """The bytes the signature covers."""
        return canonical_bytes(self.chain, self.seq, self.head_hash, count=self.count, at=self.at, key_id=self.key_id)

    def to_line(self) -> str:
        """One JSON line for the checkpoint file (no newline)."""
        return json.dumps(
            {
                "v": VERSION,
                "chain": self.chain,
                "seq": self.seq,
                "head_hash": self.head_hash,
                "count": self.count,
                "at": self.at,
                "key_id": self.key_id,
                "signature": self.signature,
            },
            separators=(",", ":"),
            ensure_ascii=True,
        )


def canonical_bytes(chain: str, seq: int, head_hash: str, *, count: int, at: str, key_id: str) -> bytes:
    """The domain prefix and the fields as sorted, compact, ASCII JSON; the same fields always give the same bytes."""
    body = {
        "v": VERSION,
        "chain": chain,
        "seq": seq,
        "head_hash": head_hash,
        "count": count,
        "at": at,
        "key_id": key_id,
    }
    return DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_checkpoint(head: ChainHead, at: str, signer: CheckpointSigner) -> Checkpoint:
    """A checkpoint of `head` taken at `at`, signed by `signer`."""
    key = signer.current()
    data = canonical_bytes(head.chain, head.seq, head.entry_hash, count=head.seq, at=at, key_id=key.key_id)
    signature = base64.urlsafe_b64encode(key.sign(data)).decode("ascii")
    return Checkpoint(head.chain, head.seq, head.entry_hash, head.seq, at, key.key_id, signature)


class CheckpointFormatError(ValueError):
    """A checkpoint line that is not what `Checkpoint.to_line` writes."""


def parse_line(line: str) -> Checkpoint:
    """The checkpoint on one line of the file; `CheckpointFormatError` saying why it is not one."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise CheckpointFormatError(f"not JSON ({error.msg})") from None
    if not isinstance(data, dict) or set(data) != _FIELDS:
        raise CheckpointFormatError("not a checkpoint object (fields differ)")
    if data["v"] != VERSION or _is_bool(data["v"]):
        raise CheckpointFormatError(f"unknown version {data['v']!r}")
    strings, numbers = ("chain", "head_hash", "at", "key_id", "signature"), ("seq", "count")
    if not all(isinstance(data[name], str) for name in strings):
        raise CheckpointFormatError("a text field is not text")
    if not all(isinstance(data[name], int) and not _is_bool(data[name]) and data[name] >= 0 for name in numbers):
        raise CheckpointFormatError("seq or count is not a whole number")
    return Checkpoint(
        data["chain"], data["seq"], data["head_hash"], data["count"], data["at"], data["key_id"], data["signature"]
    )


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def signature_problem(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """None if the signature verifies with the key of its key id; else `key-unknown` or `signature-invalid`."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return "key-unknown"
    try:
        signature = base64.urlsafe_b64decode(checkpoint.signature.encode("ascii"))
        key.verify(signature, checkpoint.canonical())
    except (InvalidSignature, ValueError, binascii.Error):
        return "signature-invalid"
    return None
