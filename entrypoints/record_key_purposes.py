"""`silta keys rotate --signing|--encryption` and `silta keys retire silta-…`: Silta's record keys in the ring."""

from __future__ import annotations

import json

from broker.crypto.keyring import KeyRingError, Purpose, retire, rotate
from broker.settings import Settings
from entrypoints.key_commands import KeyPurpose, Outcome


def _rotator(purpose: Purpose) -> KeyPurpose:
    prefix = f"silta-{purpose}-"

    def rotate_now(settings: Settings) -> Outcome:
        kid = rotate(settings.key_dir, purpose)
        use = "signs new records" if purpose == "signing" else "is what organisers now encrypt to"
        return Outcome(
            0,
            [kid],
            [
                f"{kid} {use} (a running service switches within a second); the old key stays live until retired",
                "it is published at /.well-known/jwks.json; organisers' clients fetch it when they meet it",
            ],
        )

    def retire_now(settings: Settings, kid: str, force: bool) -> Outcome:
        del force  # a retired record key is simply no longer trusted: nothing in the store depends on it
        try:
            retire(settings.key_dir, kid)
        except KeyRingError as error:
            return Outcome(1, [], [str(error)])
        return Outcome(0, [f"retired {kid}"], [f"records signed or sealed with {kid} no longer open"])

    def list_now(settings: Settings) -> list[str]:
        state = json.loads((settings.key_dir / "ring.json").read_text())
        current = state["current"].get(purpose)
        return [
            f"{k['kid']}\t{'current' if k['kid'] == current else 'retired' if k['retired'] else 'live'}"
            for k in state["keys"]
            if k["purpose"] == purpose
        ]

    help_text = "Silta's Ed25519 record-signing key" if purpose == "signing" else "Silta's X25519 encryption key"
    return KeyPurpose(purpose, help_text, rotate_now, lambda kid: kid.startswith(prefix), retire_now, list_now)


RECORD_KEY_PURPOSES = [_rotator("signing"), _rotator("encryption")]
"""Appended to `entrypoints.key_commands.KEY_PURPOSES` by the CLI."""
