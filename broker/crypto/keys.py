"""Ed25519 key files: load, or create for local runs (mode 600)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def load_ed25519_key(path: Path, hint: str = "run `silta keys init` for a local run") -> Ed25519PrivateKey:
    """Load a PEM (PKCS#8) Ed25519 private key, or say clearly what is missing."""
    if not path.exists():
        raise FileNotFoundError(f"key file {path} not found; {hint}")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def ensure_ed25519_key(path: Path) -> Ed25519PrivateKey:
    """Load an Ed25519 private key, creating it on first use (local runs only)."""
    if path.exists():
        return load_ed25519_key(path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    """The public half as PEM, to hand to those who verify."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
