"""The disclosure and usage logs on real PostgreSQL and Kafka, and the data subject's question."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import delete, select, update

from broker.audit.chain import ChainProblem
from broker.store.audit_log import verify_log
from broker.store.retention import purge_bodies
from broker.store.tables import AuditEntry, MessageEvent, MessageRecord
from devinfra.samples import application_transfer
from entrypoints.bootstrap import Runtime
from tests.integration.api_helpers import wait_for_status

pytestmark = pytest.mark.integration
APPLICANT, SPOUSE, OUTSIDER = "010594Y9032", "120390-912T", "311299+9905"
DATA_PROTECTION = "kela-data-protection"  # the only client role that may ask (703/2023 11 §)


async def _transfer_and_wait(api: httpx.AsyncClient, token: str) -> str:
    message_id = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    assert (
        await api.post("/kela/v1/messages", headers=headers, content=application_transfer(message_id))
    ).status_code == 202
    await wait_for_status(api, token, message_id, "published")
    return message_id


async def _ask(api: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await api.post(
        "/kela/v1/disclosure-queries",
        json={"personal_identity_code": code},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_published_transfer_is_logged_for_every_person_in_it(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """703/2023 10 §, 11 §: the applicant and a household member each find the disclosure, with basis and recipient."""
    message_id = await _transfer_and_wait(api, token_for())
    for code in (APPLICANT, SPOUSE):
        answer = await _ask(api, token_for(DATA_PROTECTION), code)
        assert answer.status_code == 200
        [disclosure] = [d for d in answer.json()["disclosures"] if d["details"]["message_id"] == message_id]
        details = disclosure["details"]
        assert (details["discloser"], details["recipient"]) == ("kela", "hva-90")
        assert "1412/1997 14 c §" in details["legal_bases"]
        assert "CostItems" in details["categories"]
        assert len(details["policy_version"]) == 64


async def test_someone_not_in_any_message_finds_nothing_but_their_own_question(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A person nobody's data mentions gets no disclosures; asking twice shows the first question as a usage."""
    await _ask(api, token_for(DATA_PROTECTION), OUTSIDER)
    answer = (await _ask(api, token_for(DATA_PROTECTION), OUTSIDER)).json()
    assert answer["disclosures"] == []
    assert [u["details"]["purpose"] for u in answer["usages"]] == ["answer the data subject's request (703/2023 11 §)"]


async def test_query_refuses_an_invalid_code_and_an_anonymous_caller(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A bad identity code is 422 identity-code-invalid (not echoed); no token is 401."""
    answer = await _ask(api, token_for(DATA_PROTECTION), "010594Y9033")
    assert answer.status_code == 422
    assert answer.json()["code"] == "identity-code-invalid"
    assert "010594Y9033" not in answer.text
    anonymous = await api.post("/kela/v1/disclosure-queries", json={"personal_identity_code": APPLICANT})
    assert anonymous.json()["code"] == "token-missing"


async def test_the_log_verifies_and_tampering_is_found(
    api: httpx.AsyncClient, token_for: Callable[..., str], services: Runtime
) -> None:
    """`silta audit verify`: intact after real traffic; an altered and then a deleted entry are named."""
    await _transfer_and_wait(api, token_for())
    await _transfer_and_wait(api, token_for())
    async with services.sessions() as session:
        counts, problem = await verify_log(session)
    assert problem is None
    assert counts["disclosure"] == 6

    async with services.sessions() as session, session.begin():
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.chain == "disclosure", AuditEntry.seq == 2)
            .values(payload={"recipient": "hva-08"})
        )
    async with services.sessions() as session:
        assert (await verify_log(session))[1] == problem_at(2, "altered")

    async with services.sessions() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.chain == "disclosure", AuditEntry.seq == 2))
    async with services.sessions() as session:
        assert (await verify_log(session))[1] == problem_at(2, "deleted")
        assert (await session.scalars(select(AuditEntry.subject))).all()


def problem_at(seq: int, kind: str) -> ChainProblem:
    """The problem `verify_log` should report for the disclosure chain."""
    return ChainProblem("disclosure", seq, kind)


async def test_each_delivery_is_in_the_receipt_record(
    api: httpx.AsyncClient, token_for: Callable[..., str], services: Runtime
) -> None:
    """703/2023 39 §: what the organiser received, from whom, when and on what basis, one entry per message."""
    message_id = await _transfer_and_wait(api, token_for())
    async with services.sessions() as session:
        receipts = (await session.scalars(select(AuditEntry).where(AuditEntry.chain == "receipt"))).all()
    [receipt] = [r for r in receipts if r.payload["message_id"] == message_id]
    assert (receipt.payload["received_by"], receipt.payload["received_from"]) == ("hva-90", "kela")
    assert receipt.subject == services.pipeline.pseudonyms.of(APPLICANT).value
    assert "1412/1997 14 c §" in receipt.payload["legal_bases"]


async def test_retention_empties_old_bodies_and_keeps_the_logs(
    api: httpx.AsyncClient, token_for: Callable[..., str], services: Runtime
) -> None:
    """A body whose last step is past retention is emptied; its log entries stay and the chains still verify."""
    old, fresh = await _transfer_and_wait(api, token_for()), await _transfer_and_wait(api, token_for())
    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(MessageEvent).where(MessageEvent.message_id == old).values(at=now - dt.timedelta(days=91))
        )
    async with services.sessions() as session, session.begin():
        purged = await purge_bodies(session, now - dt.timedelta(days=90), now)
    assert purged == [old]
    async with services.sessions() as session:
        bodies = dict(
            (
                await session.execute(
                    select(MessageRecord.message_id, MessageRecord.body).where(
                        MessageRecord.message_id.in_([old, fresh])
                    )
                )
            ).all()
        )
        assert bodies[old] == b""
        assert bodies[fresh].startswith(b"<?xml")
        assert (await verify_log(session))[1] is None
    answer = (await _ask(api, token_for(DATA_PROTECTION), APPLICANT)).json()
    assert old in {d["details"]["message_id"] for d in answer["disclosures"]}
