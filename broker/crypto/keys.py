"""Key files: load an Ed25519 key or create one for local runs; write any secret file whole, mode 600."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def load_ed25519_key(path: Path, hint: str = "run `silta keys init` for a local run") -> Ed25519PrivateKey:
    """Load a PEM (PKCS#8) Ed25519 private key, or say clearly what is missing."""
    if not path.exists():
        raise FileNotFoundError(f"key file {path} not found; {hint}")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write a secret file whole or not at all, mode 600: a temporary beside it, fsynced, then moved into place.

    With `exclusive` an existing file is never replaced (`FileExistsError`), so two first starts cannot each
    make a key and one overwrite the other's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            os.link(temporary, path)
        else:
            temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def b64url_decode(value: str | bytes) -> bytes:
    """Base64url as JOSE writes it, without padding."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def pkcs8_pem(key: PrivateKeyTypes) -> bytes:
    """A private key as unencrypted PKCS#8 PEM (the file is what protects it: mode 600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_ed25519_key(path: Path) -> Ed25519PrivateKey:
    """Load an Ed25519 private key, creating it on first use (local runs only)."""
    if path.exists():
        return load_ed25519_key(path)
    key = Ed25519PrivateKey.generate()
    write_private(path, pkcs8_pem(key))
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    """The public half as PEM, to hand to those who verify."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
