"""The README's quick start, step by step: a round trip between Kela and hva-08 with the `silta` commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from broker.settings import PROJECT_ROOT
from broker.store.migrate import upgrade_database
from devinfra.kafka import LocalKafka
from devinfra.ports import free_port
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.e2e
EXAMPLES = PROJECT_ROOT / "schemas" / "examples"
EXAMPLE = EXAMPLES / "valid" / "application-transfer.xml"
EXAMPLE_ID = "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f"
REQUEST_ID = "f6e2a8e4-b9a8-5bd8-917d-c979a5c5f949"  # information-request--from-hva-08.xml
DECISION_ID = "fa20e7c0-a59d-584f-a102-de2bfe8995f0"  # decision-notice.xml


def _silta(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def _listen_until(env: dict[str, str], message_id: str, timeout_s: float = 60) -> str:
    """Run `silta org listen --org hva-08` until the line of `message_id` appears; that line."""
    group = f"readme-{time.time()}"
    command = [sys.executable, "-m", "entrypoints.cli", "org", "listen", "--org", "hva-08", "--group", group]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as listener:
        watchdog = threading.Timer(timeout_s, listener.kill)  # ends the read loop below if nothing comes
        watchdog.start()
        try:
            assert listener.stdout is not None
            for line in listener.stdout:
                if message_id in line:
                    return line.rstrip("\n")
        finally:
            watchdog.cancel()
            listener.kill()
    raise AssertionError(f"{message_id} never arrived")


def _inbox_until(client: httpx.Client, message_id: str, after: str = "0", timeout_s: float = 60) -> str:
    """Long-poll Kela's inbox until `message_id` is listed; its href."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page = client.get("/kela/v1/inbox", params={"after": after, "wait": 5}).json()
        for item in page["items"]:
            if item["message_id"] == message_id:
                return str(item["href"])
        after = page["next_cursor"]
    raise AssertionError(f"{message_id} never reached Kela's inbox")


def test_quick_start(database_url: str, kafka: LocalKafka, tmp_path: Path) -> None:
    """The README's round trip on PostgreSQL: transfer, request, answer, decision notice, receipt, guardian."""
    _quick_start(database_url, kafka, tmp_path)


async def test_quick_start_on_sqlite_as_make_run_does(kafka: LocalKafka, tmp_path: Path) -> None:
    """The same steps on SQLite, the embedded default `make run` uses."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'silta.db'}"
    await upgrade_database(url)
    await asyncio.to_thread(_quick_start, url, kafka, tmp_path)


def _quick_start(database_url: str, kafka: LocalKafka, tmp_path: Path) -> None:
    """Start the service as a process on `database_url` and follow the README step by step."""
    env = {
        **os.environ,
        "SILTA_DATABASE_URL": database_url,
        "SILTA_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "SILTA_API_PORT": str(free_port()),
        "SILTA_DEV_SIGNING_KEY_FILE": str(tmp_path / "dev-signing-key.pem"),
        "SILTA_AUTH_JWKS_FILE": str(tmp_path / "jwks.json"),
        "SILTA_RELAY_POLL_INTERVAL_S": "0.2",
    }
    _silta(env, "keys", "init")
    service = ServiceProcess(env, tmp_path / "service.log")
    service.start()
    try:
        token = _silta(env, "token", "--client", "kela")
        with httpx.Client(base_url=service.base_url, headers={"Authorization": f"Bearer {token}"}) as kela:
            _round_trip(env, kela)
            _guardian_answers(env, kela, service.base_url)
        assert _silta(env, "audit", "verify").startswith("ok:")
    finally:
        service.stop()


def _round_trip(env: dict[str, str], kela: httpx.Client) -> None:
    """README steps 1-7 (see README.md, Quick start)."""
    xml = {"Content-Type": "application/xml"}
    pdf = (EXAMPLES / "attachments" / "club-invoice.pdf").read_bytes()
    assert (
        kela.post("/kela/v1/attachments", content=pdf, headers={"Content-Type": "application/pdf"}).status_code == 201
    )
    answer = kela.post("/kela/v1/messages", content=EXAMPLE.read_bytes(), headers=xml)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"message_id": EXAMPLE_ID, "status_url": f"/kela/v1/messages/{EXAMPLE_ID}"}
    assert _listen_until(env, EXAMPLE_ID) == f"application-transfer\t{EXAMPLE_ID}\tKELA-TOTU-2025-000123"

    request_file = str(EXAMPLES / "valid" / "information-request--from-hva-08.xml")
    assert _silta(env, "org", "send", "--org", "hva-08", request_file).startswith(
        f"sent\tinformation-request\t{REQUEST_ID}\t"
    )
    href = _inbox_until(kela, REQUEST_ID)
    assert b"<Items>" in kela.get(href).content
    response = (EXAMPLES / "valid" / "information-response.xml").read_bytes()
    assert kela.post("/kela/v1/messages", content=response, headers=xml).status_code == 202

    _silta(env, "org", "send", "--org", "hva-08", str(EXAMPLES / "valid" / "decision-notice.xml"))
    href = _inbox_until(kela, DECISION_ID)
    notice = kela.get(href).content
    assert b"RelevanceAssertion" in notice
    assert b"Grounds" not in notice
    receipt = kela.post(f"{href}/receipt", json={"case_reference": "KELA-TOTU-2025-000123"})
    assert receipt.status_code == 200

    assert _listen_until(env, receipt.json()["receipt_id"]).startswith("receipt\t")
    assert kela.get(f"/kela/v1/messages/{REQUEST_ID}").json()["status"] == "answered"
    assert kela.get(f"/kela/v1/messages/{DECISION_ID}").json()["status"] == "received"
    assert kela.get(f"/kela/v1/messages/{EXAMPLE_ID}").json()["recipient"] == "hva-08"


TO_CLIENT_ID = "b3fc8ffc-b3c1-5369-b9bc-9e4debeb31d1"  # information-request--to-client.xml


def _portal_headers(env: dict[str, str]) -> dict[str, str]:
    """What `eval "$(silta token --client guardian-portal --guardian edv-0001)"` sets, as headers."""
    lines = dict(
        line.split("=", 1)
        for line in _silta(env, "token", "--client", "guardian-portal", "--guardian", "edv-0001").splitlines()
    )
    return {"Authorization": f"Bearer {lines['TOKEN']}", "X-Guardian-Assertion": lines["ASSERTION"]}


def _guardian_answers(env: dict[str, str], kela: httpx.Client, base_url: str) -> None:
    """README, "A guardian answers an open request": import, Kela's request, list, view, upload."""
    assert _silta(env, "guardians", "import", str(PROJECT_ROOT / "docs" / "examples" / "guardian-mandates.csv")) == (
        "imported 1 mandates: 1 new, 0 updated"
    )
    request = (EXAMPLES / "valid" / "information-request--to-client.xml").read_bytes()
    assert (
        kela.post("/kela/v1/messages", content=request, headers={"Content-Type": "application/xml"}).status_code == 202
    )
    with httpx.Client(base_url=base_url) as portal:
        [principal] = portal.get("/guardian/v1/principals", headers=_portal_headers(env)).json()["principals"]
        ref = principal["principal_ref"]
        view = portal.get(f"/guardian/v1/principals/{ref}", headers=_portal_headers(env)).json()
        assert [r["message_id"] for r in view["open_requests"]] == [TO_CLIENT_ID]
        upload = portal.post(
            f"/guardian/v1/principals/{ref}/requests/{TO_CLIENT_ID}/attachments",
            content=(EXAMPLES / "attachments" / "club-invoice.pdf").read_bytes(),
            headers=_portal_headers(env) | {"Content-Type": "application/pdf"},
        )
    assert upload.status_code == 201, upload.text
    deliveries = {d["recipient"]: d["message_id"] for d in upload.json()["deliveries"]}
    assert set(deliveries) == {"kela", "hva-08"}
    _inbox_until(kela, deliveries["kela"])
    assert _listen_until(env, deliveries["hva-08"]).startswith("late-attachment\t")
