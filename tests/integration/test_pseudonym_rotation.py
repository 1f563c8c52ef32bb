"""Rotating the pseudonym key on real PostgreSQL and Kafka while the service runs: nothing earlier is lost.

Each test has a pseudonym key of its own (the session's is shared), rotates it
with `silta keys rotate --pseudonym` as an operator would, and waits for the
running service to see the new version (it re-reads the ring within a second).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from broker.crypto.tokens import Caller
from broker.domain.clients import Role
from broker.settings import Settings
from broker.store.audit_log import verify_log
from broker.store.tables import AuditEntry, GuardianMandate, InboxEntry
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer, example_message
from entrypoints.audit_commands import subject_report
from entrypoints.bootstrap import Runtime, build_runtime
from entrypoints.cli import main
from tests.integration.api_helpers import wait_for_status
from tests.integration.both_ways import inbox_items, send_as_organiser
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
APPLICANT = "010594Y9032"  # the examples' applicant and data subject; fictitious
DATA_PROTECTION = "kela-data-protection"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The integration settings with a pseudonym key of this test's own, also for the `silta` commands it runs."""
    key_file = tmp_path / "pseudonym.key"
    key_file.write_bytes(secrets.token_bytes(32))
    monkeypatch.setenv("SILTA_PSEUDONYM_KEY_FILE", str(key_file))
    monkeypatch.setenv("SILTA_DATABASE_URL", settings.database_url)
    return settings.model_copy(update={"pseudonym_key_file": key_file})


async def _rotate(services: Runtime, capsys: pytest.CaptureFixture[str]) -> str:
    """`silta keys rotate --pseudonym`, then wait until the running service writes with the new version."""
    capsys.readouterr()  # the service's own log lines so far
    assert main(["keys", "rotate", "--pseudonym"]) == 0
    [kid] = _printed(capsys, "pseudonym-")
    await wait_until(lambda: services.pipeline.pseudonyms.current().kid == kid, 5, what=f"the service uses {kid}")
    return kid


def _printed(capsys: pytest.CaptureFixture[str], prefix: str) -> list[str]:
    """The lines a command printed that start with `prefix` (the running service logs to the same output)."""
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith(prefix)]


async def _transfer(api: httpx.AsyncClient, token: str) -> str:
    message_id = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    answer = await api.post("/kela/v1/messages", headers=headers, content=application_transfer(message_id))
    assert answer.status_code == 202, answer.text
    await wait_for_status(api, token, message_id, "published")
    return message_id


async def _disclosures(api: httpx.AsyncClient, token: str) -> dict[str, dict[str, Any]]:
    """The applicant's disclosures as the data subject's query answers them, by message id."""
    answer = await api.post(
        "/kela/v1/disclosure-queries",
        json={"personal_identity_code": APPLICANT},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return {d["details"]["message_id"]: d["details"] for d in answer.json()["disclosures"]}


async def test_rotate_twice_and_the_first_entry_is_still_found(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Entries under versions 1, 2 and 3 are all found by REST and `silta audit subject`; the chains verify."""
    first = await _transfer(api, token_for())
    assert await _rotate(services, capsys) == "pseudonym-2"
    second = await _transfer(api, token_for())
    assert await _rotate(services, capsys) == "pseudonym-3"
    third = await _transfer(api, token_for())

    found = await _disclosures(api, token_for(DATA_PROTECTION))
    assert {found[m]["pseudonym_version"] for m in (first, second, third)} == {1, 2, 3}
    assert found[first]["recipient"] == "hva-90"
    report = "\n".join(await subject_report(services.settings, APPLICANT, "operator"))
    assert all(message_id in report for message_id in (first, second, third))
    async with services.sessions() as session:
        assert (await verify_log(session))[1] is None
        logged = (await session.scalars(select(AuditEntry.payload).where(AuditEntry.chain == "disclosure"))).all()
    ours = [entry["message_id"] for entry in logged if entry["message_id"] in (first, second, third)]
    assert len(ours) == 9  # three people in each transfer


async def test_a_rotation_leaves_message_ids_unchanged(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Kela's business receipt keeps its id after a rotation and a restart, so a retried receipt is the same one."""
    sent = await send_as_organiser(kafka, example_message("decision-notice"))
    [item] = await inbox_items(api, token_for(), {sent.message_id})
    answer = await api.post(f"{item['href']}/receipt", headers={"Authorization": f"Bearer {token_for()}"}, json={})
    receipt_id = answer.json()["receipt_id"]
    await _rotate(services, capsys)

    restarted = build_runtime(services.settings)
    kela = Caller("kela", "kela", Role.KELA)
    try:
        async with restarted.services.units() as uow:
            again = await restarted.services.inbox.receipt(uow, kela, sent.message_id, None)
        async with restarted.sessions() as session:
            stored = await session.scalar(select(InboxEntry.receipt_id).where(InboxEntry.message_id == sent.message_id))
    finally:
        await restarted.engine.dispose()
    assert again == stored == receipt_id
    assert restarted.pipeline.pseudonyms.current().kid == "pseudonym-2"


async def test_mandates_find_the_principal_under_every_version(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str],
    guardian_headers: Callable[..., dict[str, str]], capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """After a rotation the import updates the mandate it has (no duplicate); the view shows both versions' messages."""
    admin = {"Authorization": f"Bearer {token_for('silta-admin')}"}
    row = {"guardian_id": "edv-0001", "principal_identity_code": APPLICANT, "scope": "financial",
           "valid_from": "2024-01-01", "valid_to": None, "source_reference": "DVV-EDV-1"}  # fmt: skip
    imported = await api.post("/admin/v1/guardian-mandates", json={"mandates": [row]}, headers=admin)
    assert imported.json() == {"created": 1, "updated": 0}
    before = await _transfer(api, token_for())
    await _rotate(services, capsys)
    after = await _transfer(api, token_for())

    async with services.sessions() as session:
        [ref] = (await session.scalars(select(GuardianMandate.principal_ref))).all()
    view = await api.get(f"/guardian/v1/principals/{ref}", headers=guardian_headers("edv-0001"))
    shown = {a["message_id"] for a in view.json()["applications"]}
    assert shown == {before}  # the mandate has no version-2 pseudonym until the register is imported again
    again = await api.post("/admin/v1/guardian-mandates", json={"mandates": [row]}, headers=admin)
    assert again.json() == {"created": 0, "updated": 1}
    view = await api.get(f"/guardian/v1/principals/{ref}", headers=guardian_headers("edv-0001"))
    assert {a["message_id"] for a in view.json()["applications"]} == {before, after}


async def test_a_version_still_needed_is_retired_only_when_forced(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`retire` refuses the current version and, naming the counts, one with entries; `--force` retires it."""
    first = await _transfer(api, token_for())
    await _rotate(services, capsys)
    assert await asyncio.to_thread(main, ["keys", "retire", "pseudonym-2"]) == 1
    assert "is the current pseudonym key" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["keys", "retire", "pseudonym-1"]) == 1
    refusal = re.search(r"pseudonym-1 is still needed: (\d+) log entries, (\d+) messages", capsys.readouterr().err)
    assert refusal is not None
    # the transfer's 3 disclosure entries and its receipt entry; more if records other tests left reach this app
    assert int(refusal[1]) >= 4
    assert int(refusal[2]) >= 1
    assert first in await _disclosures(api, token_for(DATA_PROTECTION))

    assert await asyncio.to_thread(main, ["keys", "retire", "pseudonym-1", "--force"]) == 0
    assert _printed(capsys, "retired ") == ["retired pseudonym-1"]
    await wait_until(lambda: len(services.pipeline.pseudonyms.live()) == 1, 5, what="version 1 retired in service")
    assert first not in await _disclosures(api, token_for(DATA_PROTECTION))  # the documented consequence
    assert main(["keys", "list"]) == 0
    states = [line.split("\t")[1:3] for line in _printed(capsys, "pseudonym\t")]
    assert states == [["pseudonym-1", "retired"], ["pseudonym-2", "current"]]
    async with services.sessions() as session:
        assert (await verify_log(session))[1] is None
