"""The guardians' view on real Kafka and PostgreSQL: who may see what, and the full story with an upload."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.municipality.messages import SiltaMessage
from broker.domain.clock import SystemClock, today
from broker.store.tables import GuardianMandate, MessageRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import EXAMPLE_ATTACHMENT, application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items, post_as_kela, send_as_organiser
from tests.integration.kafka_helpers import collect

pytestmark = pytest.mark.integration
PRINCIPAL = "010594Y9032"  # the examples' client; fictitious
SPOUSE, CHILD = "120390-912T", "230715A931C"  # household members in the application transfer example
OTHER = "150288-952P"
TODAY = today(SystemClock())
Headers = Callable[..., dict[str, str]]


def _mandate(
    guardian: str, code: str, scope: str = "financial", start: dt.date | None = None, end: str | None = None
) -> dict[str, Any]:
    """A mandate row as the admin route takes it."""
    return {
        "guardian_id": guardian,
        "principal_identity_code": code,
        "scope": scope,
        "valid_from": (start or dt.date(2024, 1, 1)).isoformat(),
        "valid_to": end,
        "source_reference": f"DVV-EDV-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
async def refs(api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]) -> dict[str, str]:
    """Mandates loaded through the admin route; the principal reference of each, by what it is."""
    mandates = [
        _mandate("edv-0001", PRINCIPAL),
        _mandate("edv-0001", SPOUSE, scope="personal"),
        _mandate("edv-0001", CHILD, end="2024-12-31"),
        _mandate("edv-0001", OTHER, start=TODAY + dt.timedelta(days=30)),
        _mandate("edv-0002", OTHER),
    ]
    headers = {"Authorization": f"Bearer {token_for('silta-admin')}"}
    answer = await api.post("/admin/v1/guardian-mandates", json={"mandates": mandates}, headers=headers)
    assert answer.json() == {"created": 5, "updated": 0}
    async with services.sessions() as session:
        rows = (await session.execute(select(GuardianMandate).order_by(GuardianMandate.updated_at))).scalars()
        by_key = {(m.guardian_id, m.scope, m.valid_to, m.valid_from > TODAY): m.principal_ref for m in rows}
    return {
        "valid": by_key["edv-0001", "financial", None, False],
        "out-of-scope": by_key["edv-0001", "personal", None, False],
        "ended": by_key["edv-0001", "financial", dt.date(2024, 12, 31), False],
        "future": by_key["edv-0001", "financial", None, True],
        "another-guardians": by_key["edv-0002", "financial", None, False],
        "unknown": str(uuid.uuid4()),
    }


async def test_admin_route_refuses_a_bad_row_and_stores_nothing(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """One bad row: 422 mandate-import-invalid naming the row; the good row is not stored either."""
    headers = {"Authorization": f"Bearer {token_for('silta-admin')}"}
    bad = _mandate("edv-0001", "010594Y903A")
    answer = await api.post(
        "/admin/v1/guardian-mandates", json={"mandates": [_mandate("edv-9", OTHER), bad]}, headers=headers
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "mandate-import-invalid")
    assert [e["path"] for e in answer.json()["errors"]] == ["/mandates/1"]
    again = await api.post(
        "/admin/v1/guardian-mandates", json={"mandates": [_mandate("edv-9", OTHER)]}, headers=headers
    )
    assert again.json() == {"created": 1, "updated": 0}
    kela = await api.post(
        "/admin/v1/guardian-mandates", json={"mandates": []}, headers={"Authorization": f"Bearer {token_for()}"}
    )
    assert (kela.status_code, kela.json()["code"]) == (403, "client-not-allowed")


def _routes(ref: str) -> list[tuple[str, str]]:
    return [
        ("GET", "/guardian/v1/principals"),
        ("GET", f"/guardian/v1/principals/{ref}"),
        ("POST", f"/guardian/v1/principals/{ref}/requests/{uuid.uuid4()}/attachments"),
    ]


async def _call(api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    if method == "POST":
        headers = headers | {"Content-Type": "application/pdf"}
        return await api.post(path, headers=headers, content=EXAMPLE_ATTACHMENT.read_bytes())
    return await api.get(path, headers=headers)


async def test_every_route_refuses_callers_without_portal_credentials_and_a_fresh_assertion(
    api: httpx.AsyncClient, refs: dict[str, str], guardian_headers: Headers, token_for: Callable[..., str]
) -> None:
    """No token, no assertion, Kela's token, an expired or replayed assertion: refused on every route."""
    for method, path in _routes(refs["valid"]):
        portal_only = {"Authorization": f"Bearer {token_for('guardian-portal')}"}
        kela = guardian_headers("edv-0001") | {"Authorization": f"Bearer {token_for()}"}
        expired = guardian_headers("edv-0001", lifetime=dt.timedelta(seconds=-10))
        spent = guardian_headers("edv-0001")
        await _call(api, "GET", "/guardian/v1/principals", spent)
        cases = [({}, 401, "token-missing"), (portal_only, 401, "guardian-assertion-missing"),
                 (kela, 403, "client-not-allowed"), (expired, 401, "guardian-assertion-invalid"),
                 (spent, 401, "guardian-assertion-replayed")]  # fmt: skip
        for headers, status, code in cases:
            answer = await _call(api, method, path, headers)
            assert (answer.status_code, answer.json()["code"]) == (status, code), (method, path, code)


@pytest.mark.parametrize("which", ["out-of-scope", "ended", "future", "another-guardians", "unknown"])
async def test_a_principal_the_guardian_may_not_see_is_indistinguishable_from_none(
    which: str, api: httpx.AsyncClient, refs: dict[str, str], guardian_headers: Headers
) -> None:
    """Out-of-scope, ended, future, another guardian's or unknown: the same 404 body on every route."""
    for method, path in _routes(refs[which])[1:]:
        answer = await _call(api, method, path, guardian_headers("edv-0001"))
        unknown = await _call(api, method, path.replace(refs[which], str(uuid.uuid4())), guardian_headers("edv-0001"))
        assert answer.status_code == 404
        assert answer.json() == unknown.json()
        assert answer.json()["code"] == "principal-not-found"


async def test_the_guardian_lists_only_principals_it_may_see_today(
    api: httpx.AsyncClient, refs: dict[str, str], guardian_headers: Headers
) -> None:
    """Only the valid, financial mandate is listed, by opaque reference; no identity code anywhere."""
    answer = await api.get("/guardian/v1/principals", headers=guardian_headers("edv-0001"))
    assert [p["principal_ref"] for p in answer.json()["principals"]] == [refs["valid"]]
    assert PRINCIPAL not in answer.text


async def test_the_view_never_shows_other_household_members_statements_or_notes(
    api: httpx.AsyncClient, kafka: LocalKafka, refs: dict[str, str], guardian_headers: Headers,
    token_for: Callable[..., str],
) -> None:  # fmt: skip
    """Transfer with a household, a decision with a social-work note, a statement: only the principal's own data."""
    assert (await post_as_kela(api, token_for(), application_transfer(municipality="837"))).status_code == 202
    decision = await send_as_organiser(kafka, _with_note(example_message("decision-notice")))
    statement = await send_as_organiser(kafka, example_message("statement"))
    await inbox_items(api, token_for(), {decision.message_id, statement.message_id})
    view = await api.get(f"/guardian/v1/principals/{refs['valid']}", headers=guardian_headers("edv-0001"))
    assert view.status_code == 200
    body = view.json()
    assert [a["status"] for a in body["applications"]] == ["decided"]
    assert {d["message_type"] for d in body["decisions"]} == {"decision-notice"}
    for forbidden in (SPOUSE, CHILD, "HouseholdMembers", "SocialWorkAssessment", "Home visit notes", "Statement"):
        assert forbidden not in view.text, forbidden
    assert statement.message_id not in view.text


def _with_note(document: bytes) -> bytes:
    """The decision notice with a social-work assessment right after its grounds."""
    return document.replace(
        b"</Grounds>", b"</Grounds>\n  <SocialWorkAssessment>Home visit notes</SocialWorkAssessment>", 1
    )


async def test_full_story_guardian_answers_kelas_request_with_an_upload(
    api: httpx.AsyncClient, kafka: LocalKafka, refs: dict[str, str], guardian_headers: Headers,
    token_for: Callable[..., str],
) -> None:  # fmt: skip
    """Kela asks the client for bank statements; the guardian sees it, uploads; Kela and hva-08 receive it."""
    request_id = str(uuid.uuid4())
    request = example_message("information-request", variant="to-client", message_id=request_id)
    assert (await post_as_kela(api, token_for(), request)).status_code == 202

    view = (await api.get(f"/guardian/v1/principals/{refs['valid']}", headers=guardian_headers("edv-0001"))).json()
    [open_request] = view["open_requests"]
    assert open_request["message_id"] == request_id
    assert open_request["due_date"] == "2099-03-21"
    assert open_request["content"]["Items"]["Item"]["Code"] == "bank-statements"

    upload = await api.post(
        f"/guardian/v1/principals/{refs['valid']}/requests/{request_id}/attachments",
        content=EXAMPLE_ATTACHMENT.read_bytes(),
        headers=guardian_headers("edv-0001") | {"Content-Type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    deliveries = {d["recipient"]: d["message_id"] for d in upload.json()["deliveries"]}
    assert set(deliveries) == {"kela", "hva-08"}

    [item] = await inbox_items(api, token_for(), {deliveries["kela"]})
    assert item["message_type"] == "late-attachment"
    [delivery] = await collect(kafka, "hva-08", {deliveries["hva-08"]})
    assert isinstance(delivery.message, SiltaMessage)
    assert delivery.message.text("SubmittedBy") == "guardian"
    assert delivery.message.text("Attachments/Attachment/AttachmentId") == upload.json()["attachment_id"]
    fetched = await api.get(
        f"/attachments/{upload.json()['attachment_id']}",
        headers={"Authorization": f"Bearer {token_for('hva-08-case-system')}"},
    )
    assert fetched.content == EXAMPLE_ATTACHMENT.read_bytes()

    after = (await api.get(f"/guardian/v1/principals/{refs['valid']}", headers=guardian_headers("edv-0001"))).json()
    uploads = after["open_requests"][0]["uploads"]
    assert {u["recipient"] for u in uploads} == {"kela", "hva-08"}
    assert all(u["status"] in {"published", "delivered"} for u in uploads)

    query = await api.post(
        "/kela/v1/disclosure-queries",
        json={"personal_identity_code": PRINCIPAL},
        headers={"Authorization": f"Bearer {token_for('kela-data-protection')}"},
    )
    usages = [u["details"] for u in query.json()["usages"]]
    assert any(u.get("user") == "edv-0001" and u.get("party") == "guardian" for u in usages)


async def test_an_upload_to_a_request_that_is_not_open_for_the_principal_is_not_found(
    api: httpx.AsyncClient, refs: dict[str, str], guardian_headers: Headers, token_for: Callable[..., str]
) -> None:
    """An unknown request, or one addressed to the organiser rather than the client: 404 request-not-found."""
    to_organiser = str(uuid.uuid4())
    document = example_message("information-request", message_id=to_organiser)
    assert (await post_as_kela(api, token_for(), document)).status_code == 202
    for request_id in (str(uuid.uuid4()), to_organiser):
        answer = await api.post(
            f"/guardian/v1/principals/{refs['valid']}/requests/{request_id}/attachments",
            content=EXAMPLE_ATTACHMENT.read_bytes(),
            headers=guardian_headers("edv-0001") | {"Content-Type": "application/pdf"},
        )
        assert (answer.status_code, answer.json()["code"]) == (404, "request-not-found")


async def test_an_upload_retried_after_a_timeout_stores_no_second_late_attachment(
    api: httpx.AsyncClient, services: Runtime, refs: dict[str, str], guardian_headers: Headers,
    token_for: Callable[..., str],
) -> None:  # fmt: skip
    """The portal repeats an upload it got no answer to: the same deliveries, one late attachment per recipient."""
    request_id = str(uuid.uuid4())
    request = example_message("information-request", variant="to-client", message_id=request_id)
    assert (await post_as_kela(api, token_for(), request)).status_code == 202
    answers = []
    for _ in range(2):  # each attempt with a fresh assertion, as a portal retrying would
        answer = await api.post(
            f"/guardian/v1/principals/{refs['valid']}/requests/{request_id}/attachments",
            content=EXAMPLE_ATTACHMENT.read_bytes(),
            headers=guardian_headers("edv-0001") | {"Content-Type": "application/pdf"},
        )
        assert answer.status_code == 201, answer.text
        answers.append(answer.json())
    assert answers[0] == answers[1]
    async with services.sessions() as session:
        rows = await session.execute(
            select(MessageRecord.message_id).where(
                MessageRecord.correlation_id == request_id, MessageRecord.message_type == "late-attachment"
            )
        )
        assert sorted(rows.scalars()) == sorted(d["message_id"] for d in answers[0]["deliveries"])


async def test_a_refused_call_still_uses_its_assertion_up(
    api: httpx.AsyncClient, refs: dict[str, str], guardian_headers: Headers
) -> None:
    """An assertion spent on an unknown principal cannot probe another reference: the second use is a replay."""
    headers = guardian_headers("edv-0001")
    first = await api.get(f"/guardian/v1/principals/{refs['unknown']}", headers=headers)
    assert (first.status_code, first.json()["code"]) == (404, "principal-not-found")
    again = await api.get(f"/guardian/v1/principals/{refs['valid']}", headers=headers)
    assert (again.status_code, again.json()["code"]) == (401, "guardian-assertion-replayed")
