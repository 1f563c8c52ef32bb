"""Versions of the pseudonym key: the ring file, what a running service sees, ids, chains and `silta keys`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import stat
from pathlib import Path

import pytest

from broker.audit.chain import GENESIS_HASH, ChainEntry, entry_hash, verify_chain
from broker.audit.pseudonym import Pseudonymiser
from broker.audit.pseudonym_ring import RingError, read_ring, retire_in_ring, ring_path, rotate_ring
from broker.crypto.ids import MessageIds
from broker.domain.disclosure import DisclosureFacts, Pseudonym, UsageEntry
from entrypoints.cli import main

CODE = "010594Y9032"  # fictitious
AT = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A version-1 key file as every deployment before versions has one."""
    path = tmp_path / "pseudonym.key"
    path.write_bytes(secrets.token_bytes(32))
    return path


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The time the test has set."""
        return self.now


def test_without_a_ring_the_key_file_is_version_1_as_before(key_file: Path) -> None:
    """An existing deployment reads as before: one version, the same HMAC of the same file."""
    pseudonyms = Pseudonymiser.from_file(key_file)
    expected = hmac.new(key_file.read_bytes(), CODE.encode(), hashlib.sha256).hexdigest()
    assert pseudonyms.of(CODE) == Pseudonym(expected, 1)
    assert [key.kid for key in pseudonyms.live()] == ["pseudonym-1"]


def test_rotating_twice_writes_with_the_newest_and_looks_up_under_all(key_file: Path) -> None:
    """After two rotations the current version is 3 and a look-up has the code's pseudonym under 3, 2 and 1."""
    first = Pseudonymiser.from_file(key_file).of(CODE)
    assert rotate_ring(ring_path(key_file), AT) == 2
    assert rotate_ring(ring_path(key_file), AT) == 3
    pseudonyms = Pseudonymiser.from_file(key_file)
    every = pseudonyms.every(CODE)
    assert [p.version for p in every] == [3, 2, 1]
    assert every[-1] == first
    assert len({p.value for p in every}) == 3
    assert pseudonyms.of(CODE) == every[0]


def test_a_running_service_sees_a_rotation_after_the_recheck_interval(key_file: Path) -> None:
    """The ring is looked at no more often than `recheck_s`; a rotation shows at the first look after it."""
    ticks = Ticks()
    pseudonyms = Pseudonymiser(key_file.read_bytes(), ring_path(key_file), recheck_s=1.0, monotonic=ticks)
    rotate_ring(ring_path(key_file), AT)
    ticks.now = 0.5
    assert pseudonyms.current().version == 1
    ticks.now = 1.5
    assert pseudonyms.current().version == 2


def test_a_ring_spoiled_while_running_keeps_the_last_good_keys(key_file: Path) -> None:
    """A half-written or broken ring does not stop a running service; at start it is refused."""
    ticks = Ticks()
    rotate_ring(ring_path(key_file), AT)
    pseudonyms = Pseudonymiser(key_file.read_bytes(), ring_path(key_file), recheck_s=0, monotonic=ticks)
    ring_path(key_file).write_text("{not json")
    ticks.now = 1
    assert [key.version for key in pseudonyms.live()] == [2, 1]
    with pytest.raises(RingError, match="cannot be read"):
        Pseudonymiser.from_file(key_file)


def test_message_ids_stay_on_version_1_across_rotations(key_file: Path) -> None:
    """`id_secret` is the key file's bytes whatever the current version: a receipt's id never changes."""
    before = MessageIds(Pseudonymiser.from_file(key_file).id_secret).derive("technical-receipt", "t/0/1")
    rotate_ring(ring_path(key_file), AT)
    rotate_ring(ring_path(key_file), AT)
    retire_in_ring(ring_path(key_file), 1, AT)
    after = Pseudonymiser.from_file(key_file)
    assert [key.version for key in after.live()] == [3, 2]
    assert MessageIds(after.id_secret).derive("technical-receipt", "t/0/1") == before
    assert before == MessageIds(key_file.read_bytes()).derive("technical-receipt", "t/0/1")


def test_retiring_forgets_the_secret_refuses_the_current_and_never_reuses_a_number(key_file: Path) -> None:
    """The current version stays; a retired one loses its secret and its number; the file is mode 600."""
    ring = ring_path(key_file)
    rotate_ring(ring, AT)
    with pytest.raises(RingError, match="current"):
        retire_in_ring(ring, 2, AT)
    rotate_ring(ring, AT)
    retire_in_ring(ring, 2, AT)
    with pytest.raises(RingError, match="not live"):
        retire_in_ring(ring, 2, AT)
    assert rotate_ring(ring, AT) == 4
    state = read_ring(ring)
    assert (state.live_versions(), sorted(state.secrets), sorted(state.retired)) == ([4, 3, 1], [3, 4], [2])
    assert "2" not in {str(k["version"]) for k in json.loads(ring.read_text())["keys"]}
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600


def _entry(seq: int, payload: dict[str, object], previous: str) -> ChainEntry:
    at = AT.isoformat()
    return ChainEntry(
        "usage",
        seq,
        at,
        "ab" * 32,
        payload,
        previous,
        entry_hash("usage", seq, at, "ab" * 32, payload, prev_hash=previous),
    )


def test_an_entry_from_before_versions_and_one_with_a_version_verify_in_one_chain() -> None:
    """The version is a new payload field of new entries only: an old entry's hash is what it always was."""
    old = _entry(1, {"user": "kela", "purpose": "p"}, GENESIS_HASH)
    subject, payload = UsageEntry(Pseudonym("ab" * 32, 2), "kela", "kela", "p", ()).log_entry()
    assert payload["pseudonym_version"] == 2
    new = _entry(2, payload, old.entry_hash)
    assert verify_chain("usage", [old, new], 2, new.entry_hash) is None
    assert subject == "ab" * 32


def test_facts_stored_before_versions_are_version_1() -> None:
    """A message accepted before versions has no `pseudonym_version` in its facts: its pseudonyms are version 1."""
    assert DisclosureFacts.from_json({"data_subject": "cd" * 32}).subject_pseudonym() == Pseudonym("cd" * 32, 1)
    facts = DisclosureFacts("cd" * 32, pseudonym_version=3)
    assert DisclosureFacts.from_json(facts.to_json()) == facts


def test_keys_rotate_needs_exactly_one_kind_and_prints_the_new_key_id(
    key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silta keys rotate --pseudonym` prints `pseudonym-2`; no kind is a usage error; `list` shows both."""
    monkeypatch.setenv("SILTA_PSEUDONYM_KEY_FILE", str(key_file))
    with pytest.raises(SystemExit) as usage:
        main(["keys", "rotate"])
    assert usage.value.code == 2
    capsys.readouterr()
    assert main(["keys", "rotate", "--pseudonym"]) == 0
    assert capsys.readouterr().out == "pseudonym-2\n"
    assert main(["keys", "list"]) == 0
    lines = [line.split("\t")[:3] for line in capsys.readouterr().out.splitlines()]
    pseudonyms = [line for line in lines if line[0] == "pseudonym"]
    assert pseudonyms == [["pseudonym", "pseudonym-1", "live"], ["pseudonym", "pseudonym-2", "current"]]
    assert {line[0] for line in lines} == {"pseudonym", "signing", "encryption"}  # Silta's record keys too


def test_keys_retire_an_id_no_kind_of_key_owns_is_a_usage_error(
    key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown key id exits 2 and names the id; nothing is changed."""
    monkeypatch.setenv("SILTA_PSEUDONYM_KEY_FILE", str(key_file))
    assert main(["keys", "retire", "silta-records-9"]) == 2
    assert "no key has the id silta-records-9" in capsys.readouterr().err
    assert not ring_path(key_file).exists()
