"""The anchored log on real PostgreSQL: checkpoints outside the database find what the head row cannot."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from broker.crypto.keyring import LiveKeyRing, retire, rotate
from broker.crypto.keys import load_ed25519_key, public_key_pem
from broker.domain.clock import ManualClock
from broker.services.checkpoints import CheckpointJob, CheckpointWriter
from broker.settings import Settings
from broker.store.audit_log import verify_log
from broker.store.tables import AuditEntry
from devinfra.samples import application_transfer
from entrypoints.audit_anchor import checkpoint_signer, checkpoint_verification_keys
from entrypoints.bootstrap import Runtime
from tests.conftest import KEY_DIR
from tests.integration.api_helpers import wait_for_status
from tests.integration.audit_helpers import START, cut_back, hash_of, log_entries, rewrite_from, silta, units_on
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def checkpoints(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`silta` pointed at the test database and a checkpoint file of the test's own."""
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setenv("SILTA_DATABASE_URL", database_url)
    monkeypatch.setenv("SILTA_AUDIT_CHECKPOINT_FILE", str(path))
    return path


async def _transfer(api: httpx.AsyncClient, token: str) -> None:
    message_id = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    response = await api.post("/kela/v1/messages", headers=headers, content=application_transfer(message_id))
    assert response.status_code == 202
    await wait_for_status(api, token, message_id, "published")


async def test_cutting_the_last_disclosures_and_rewriting_the_head_fails_verify(
    api: httpx.AsyncClient,
    token_for: Callable[..., str],
    services: Runtime,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's case: the chain alone still verifies, but verify exits 1 naming the chain and the last good one."""
    monkeypatch.setenv("SILTA_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("SILTA_AUDIT_CHECKPOINT_FILE", str(services.settings.audit_checkpoint_file))
    await _transfer(api, token_for())
    [first] = [c for c in (await services.checkpoints.run_once()).written if c.chain == "disclosure"]
    await _transfer(api, token_for())
    [second] = [c for c in (await services.checkpoints.run_once()).written if c.chain == "disclosure"]
    assert (first.seq, second.seq) == (3, 6)
    assert (await silta(capsys, "audit", "verify"))[0] == 0

    async with units_on(services.settings.database_url) as units:
        await cut_back(units, "disclosure", 4)
    async with services.sessions() as session:
        assert (await verify_log(session))[1] is None  # what `verify` answered before: "ok"
    code, out = await silta(capsys, "audit", "verify")
    assert code == 1
    assert (
        "FAILED: the disclosure log is cut short: the chain ends at entry 4, but the checkpoint of"
        f" {second.at} anchored entry 6 (checkpoint file line {_line_of(services, second.at, 'disclosure')});"
        f" last good checkpoint: entry 3 at {first.at}"
    ) in out


def _line_of(services: Runtime, at: str, chain: str) -> int:
    lines = checkpoint_lines(services.settings.audit_checkpoint_file)
    return next(n for n, line in enumerate(lines, 1) if (line["at"], line["chain"]) == (at, chain))


async def test_an_altered_or_garbled_checkpoint_line_fails_verify(
    database_url: str, checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A forger moving a checkpoint back to fit a cut chain breaks its signature; a garbled line is malformed."""
    async with units_on(database_url) as units:
        await log_entries(units, "disclosure", 3)
        assert await silta(capsys, "audit", "checkpoint") == (
            0,
            [f"checkpointed the disclosure log at entry 3 (key silta-signing-1) in {checkpoints}"],
        )
        await cut_back(units, "disclosure", 2)
        second = await hash_of(units, "disclosure", 2)
    [line] = checkpoint_lines(checkpoints)
    _write_lines(checkpoints, [json.dumps(line | {"seq": 2, "count": 2, "head_hash": second}), "{half a line"])
    code, out = await silta(capsys, "audit", "verify")
    assert code == 1
    assert f"FAILED: {checkpoints} line 1: signature-invalid (key id 'silta-signing-1')" in out
    assert any(o.startswith(f"FAILED: {checkpoints} line 2: malformed (not JSON") for o in out)
    assert "ok: 2 disclosure entries, 0 receipt entries, 0 usage entries verify" in out


async def test_checkpoints_signed_before_a_rotation_verify_with_the_old_public_key(
    database_url: str,
    checkpoints: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Signed by a key since rotated and retired: verify holds; without the old key, ok with `--public-key`."""
    ring = tmp_path / "ring"
    shutil.copytree(KEY_DIR, ring)
    monkeypatch.setenv("SILTA_KEY_DIR", str(ring))
    async with units_on(database_url) as units:
        await log_entries(units, "usage", 2)
        assert (await silta(capsys, "audit", "checkpoint"))[0] == 0
        rotate(ring, "signing")
        retire(ring, "silta-signing-1")
        await log_entries(units, "usage", 2)
        assert (await silta(capsys, "audit", "checkpoint"))[0] == 0
    assert [line["key_id"] for line in checkpoint_lines(checkpoints)] == ["silta-signing-1", "silta-signing-2"]
    assert (await silta(capsys, "audit", "verify"))[0] == 0
    old_public = tmp_path / "old.pub.pem"
    old_public.write_text(public_key_pem(load_ed25519_key(ring / "silta-signing-1.pem")))
    state = json.loads((ring / "ring.json").read_text())
    state["keys"] = [k for k in state["keys"] if k["kid"] != "silta-signing-1"]  # a verifier without the old key
    (ring / "ring.json").write_text(json.dumps(state))
    code, out = await silta(capsys, "audit", "verify")
    assert code == 1
    assert (
        f"FAILED: {checkpoints} line 1: key-unknown (key id 'silta-signing-1'); give its public key with"
        " --public-key KID=PEM"
    ) in out
    code, out = await silta(capsys, "audit", "verify", "--public-key", f"silta-signing-1={old_public}")
    assert code == 0
    [summary] = [line for line in out if line.startswith(f"ok: 2 checkpoints in {checkpoints} verify; ")]
    assert "disclosure not yet checkpointed, receipt not yet checkpointed, usage to entry 4 of 4 (" in summary


async def test_the_periodic_job_writes_only_when_a_head_moved(database_url: str, tmp_path: Path) -> None:
    """Rounds with no new entries write nothing; an entry in one chain gets that chain, alone, a checkpoint."""
    path, clock = tmp_path / "audit-checkpoints.jsonl", ManualClock(START)
    settings = Settings(audit_checkpoint_file=path)
    signer = checkpoint_signer(settings)
    keys = checkpoint_verification_keys(settings)
    async with units_on(database_url, clock) as units:
        await log_entries(units, "disclosure", 2)
        job = CheckpointJob(CheckpointWriter(units, path, signer, keys), interval_s=0.01)
        job.start()
        try:
            await wait_until(lambda: job.rounds >= 5, what="five rounds of the job")
            assert [_chain_seq(line) for line in checkpoint_lines(path)] == [("disclosure", 2)]
            clock.advance(dt.timedelta(minutes=5))
            await log_entries(units, "usage", 1)
            await wait_until(lambda: len(checkpoint_lines(path)) == 2, what="a checkpoint of the usage log")
            rounds = job.rounds
            await wait_until(lambda: job.rounds >= rounds + 3, what="three more rounds")
        finally:
            await job.stop()
        lines = checkpoint_lines(path)
        assert [_chain_seq(line) for line in lines] == [("disclosure", 2), ("usage", 1)]
        assert lines[1]["at"] == (START + dt.timedelta(minutes=5)).isoformat()


async def test_two_writers_on_one_file_write_each_head_once(database_url: str, tmp_path: Path) -> None:
    """Two instances (writers) sharing a file: each round's head is written once, whoever gets the lock first."""
    path = tmp_path / "audit-checkpoints.jsonl"
    settings = Settings(audit_checkpoint_file=path)
    signer = checkpoint_signer(settings)
    keys = checkpoint_verification_keys(settings)
    async with units_on(database_url) as units:
        first, second = (CheckpointWriter(units, path, signer, keys) for _ in range(2))
        await log_entries(units, "receipt", 1)
        assert len((await first.write_due()).written) == 1
        assert (await second.write_due()).written == []  # it read the first's line from the file's tail
        for _ in range(3):
            await log_entries(units, "receipt", 1)
            rounds = await asyncio.gather(first.write_due(), second.write_due())
            assert sum(len(r.written) for r in rounds) == 1
    assert [_chain_seq(line) for line in checkpoint_lines(path)] == [("receipt", n) for n in range(1, 5)]


async def test_a_writer_started_before_a_rotation_trusts_the_new_key(database_url: str, tmp_path: Path) -> None:
    """A writer whose keys predate a rotation accepts the other writer's new-key line instead of writing again."""
    key_dir, path = tmp_path / "keys", tmp_path / "audit-checkpoints.jsonl"
    shutil.copytree(KEY_DIR, key_dir)
    settings = Settings(audit_checkpoint_file=path, key_dir=key_dir)
    keys_at_start = checkpoint_verification_keys(settings)
    async with units_on(database_url) as units:
        first, second = (
            CheckpointWriter(units, path, checkpoint_signer(settings, LiveKeyRing(key_dir, 0)), keys_at_start)
            for _ in range(2)
        )
        new_kid = rotate(key_dir, "signing")
        await log_entries(units, "receipt", 1)
        assert [c.key_id for c in (await first.write_due()).written] == [new_kid]
        round_of_second = await second.write_due()
    assert (round_of_second.written, round_of_second.ignored) == ([], [])
    assert [line["key_id"] for line in checkpoint_lines(path)] == [new_kid]


def _chain_seq(line: dict[str, Any]) -> tuple[str, int]:
    return line["chain"], line["seq"]


def checkpoint_lines(path: Path) -> list[dict[str, Any]]:
    """The checkpoint file's lines, parsed."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines))


async def test_verify_without_a_checkpoint_file_says_so_and_still_checks_the_chains(
    database_url: str, checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No file: exit 0 with a line saying the chains are unanchored; an altered entry still fails (exit 1)."""
    async with units_on(database_url) as units:
        await log_entries(units, "disclosure", 3)
    code, out = await silta(capsys, "audit", "verify")
    assert code == 0
    assert out[0] == "ok: 3 disclosure entries, 0 receipt entries, 0 usage entries verify"
    assert out[1].startswith(f"no checkpoint file at {checkpoints}: the chains were checked only against")
    assert await silta(capsys, "audit", "checkpoint") == (
        0,
        [f"checkpointed the disclosure log at entry 3 (key silta-signing-1) in {checkpoints}"],
    )
    assert (await silta(capsys, "audit", "checkpoint"))[1] == [
        f"nothing to checkpoint: no log moved since its last checkpoint in {checkpoints}"
    ]
    async with units_on(database_url) as units, units() as uow:
        await uow.session.execute(
            update(AuditEntry).where(AuditEntry.chain == "disclosure", AuditEntry.seq == 2).values(payload={})
        )
        await uow.commit()
    code, out = await silta(capsys, "audit", "verify")
    assert code == 1
    assert "FAILED: the disclosure log is altered at entry 2; no earlier checkpoint of it verifies" in out


@pytest.mark.usefixtures("checkpoints")
async def test_a_consistently_rewritten_chain_fails_against_its_checkpoint(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Entries rehashed with the head to match verify on their own; against the checkpoint they do not."""
    async with units_on(database_url) as units:
        await log_entries(units, "disclosure", 4)
        assert (await silta(capsys, "audit", "checkpoint"))[0] == 0
        await rewrite_from(units, "disclosure", 3)
        async with units() as uow:
            assert (await verify_log(uow.session))[1] is None
    code, out = await silta(capsys, "audit", "verify")
    assert code == 1
    [failure] = [line for line in out if line.startswith("FAILED")]
    assert failure.startswith("FAILED: the disclosure log no longer matches its checkpoints: entry 4 is not the one")
    assert failure.endswith("(checkpoint file line 1); no earlier checkpoint of it verifies")


async def test_checkpoint_refuses_a_chain_that_went_back(
    database_url: str, checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silta audit checkpoint` does not anchor a cut chain: it exits 1 naming it, and writes nothing."""
    async with units_on(database_url) as units:
        await log_entries(units, "usage", 3)
        assert (await silta(capsys, "audit", "checkpoint"))[0] == 0
        await cut_back(units, "usage", 1)
    code, out = await silta(capsys, "audit", "checkpoint")
    assert (code, out) == (
        1,
        [
            "FAILED: the usage log went back or no longer matches its last checkpoint: not checkpointed;"
            " run `silta audit verify`"
        ],
    )
    assert len(checkpoint_lines(checkpoints)) == 1
