"""Key files written so that a crash or an existing file cannot leave keys lost, exposed or blocked."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from pathlib import Path

import pytest

from adapters.console.session import ConsoleSession, SessionSigner, ensure_session_secret
from adapters.municipality.keys import OrganiserKeys
from broker.crypto.keyring import KeyRing, rotate
from broker.domain.clients import Role
from tests.conftest import KEY_DIR


def test_a_rotation_that_crashed_before_saving_does_not_block_the_next(tmp_path: Path) -> None:
    """A PEM left behind without its ring entry: the next rotation takes the next free id and works."""
    ring = tmp_path / "ring"
    shutil.copytree(KEY_DIR, ring)
    (ring / "silta-signing-2.pem").write_bytes(b"left by a crash")
    assert rotate(ring, "signing") == "silta-signing-3"
    assert KeyRing.load(ring).signer.key_id == "silta-signing-3"


def test_a_partys_key_file_is_private_even_when_it_was_not(tmp_path: Path) -> None:
    """`new` on an existing keys.json left at 0644: the new file is 0600 and holds the old keys and the new."""
    OrganiserKeys.new(tmp_path, "hva-08")
    path = tmp_path / "hva-08" / "keys.json"
    path.chmod(0o644)
    OrganiserKeys.new(tmp_path, "hva-08")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kids = [key["kid"] for key in json.loads(path.read_text())["keys"]]
    assert kids == ["hva-08-sig-1", "hva-08-enc-1", "hva-08-sig-2", "hva-08-enc-2"]
    assert not list(path.parent.glob(".*.tmp"))


def test_the_console_session_secret_is_made_once_and_required(tmp_path: Path) -> None:
    """`silta keys init` makes the console's secret once (mode 600); a signer from it is stable; none is an error."""
    path = tmp_path / "console-session.key"
    with pytest.raises(FileNotFoundError, match="silta keys init"):
        SessionSigner.from_secret_file(path)
    ensure_session_secret(path)
    first = path.read_bytes()
    ensure_session_secret(path)
    assert path.read_bytes() == first
    assert path.stat().st_mode & 0o777 == 0o600
    session = ConsoleSession("sid", "silta-operator", Role.OPERATOR, "silta", dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    assert SessionSigner.from_secret_file(path).csrf_token(session) == SessionSigner.from_secret(first).csrf_token(
        session
    )
    with pytest.raises(ValueError, match="32 bytes"):
        SessionSigner.from_secret(b"short")
