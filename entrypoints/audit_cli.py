"""`silta audit verify|checkpoint`: the log chains held to their signed checkpoints, and a checkpoint now.

As in `cli.py`, a command imports what it needs when it runs, so that every
other `silta` command starts without loading the database and crypto layers.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from broker.settings import Settings
from entrypoints.progress import working

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walk the logs' hash chains and meet their signed checkpoints; name what is altered, deleted or cut off."""
    from entrypoints.audit_commands import verify  # noqa: PLC0415
    from entrypoints.audit_report import verify_lines  # noqa: PLC0415

    settings = Settings()
    path = args.checkpoints or settings.audit_checkpoint_file
    with working("walking the logs' hash chains"):
        report = asyncio.run(verify(settings, path, dict(args.public_key)))
    print("\n".join(verify_lines(report, path)))
    return 0 if report.ok else 1


def cmd_audit_checkpoint(_args: argparse.Namespace) -> int:
    """Sign and append a checkpoint of each log whose head moved since its last one (the job does it every 5 min)."""
    from entrypoints.audit_commands import checkpoint  # noqa: PLC0415
    from entrypoints.audit_report import checkpoint_lines  # noqa: PLC0415

    settings = Settings()
    result = asyncio.run(checkpoint(settings))
    print("\n".join(checkpoint_lines(result, settings.audit_checkpoint_file)))
    return 1 if result.refused else 0


def public_key_option(value: str) -> tuple[str, Ed25519PublicKey]:
    """`KID=PEM-FILE` → (key id, Ed25519 public key), for `--public-key`."""
    from entrypoints.audit_anchor import load_public_key  # noqa: PLC0415

    key_id, _, file = value.partition("=")
    if not key_id or not file:
        raise argparse.ArgumentTypeError("give KID=PEM-FILE")
    try:
        return key_id, load_public_key(Path(file).read_bytes())
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{file}: {error}") from None


def add_anchor_commands(audit: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`verify` (with `--checkpoints` and `--public-key`) and `checkpoint` under `silta audit`."""
    verify_parser = audit.add_parser("verify", help=cmd_audit_verify.__doc__)
    verify_parser.add_argument("--checkpoints", type=Path, default=None, help="default: SILTA_AUDIT_CHECKPOINT_FILE")
    verify_parser.add_argument(
        "--public-key",
        type=public_key_option,
        action="append",
        default=[],
        metavar="KID=PEM",
        help="a public key checkpoints may be signed with, e.g. a retired one (repeatable)",
    )
    verify_parser.set_defaults(handler=cmd_audit_verify)
    audit.add_parser("checkpoint", help=cmd_audit_checkpoint.__doc__).set_defaults(handler=cmd_audit_checkpoint)
