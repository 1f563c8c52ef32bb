"""Past the role table, each use case shows a caller only its own: another organiser's message does not exist.

hva-06's case system asks for the status and the attachment of a message
Kela sent to hva-08: 404, the very answer it gets for an id nobody ever used,
so a refusal does not reveal that the message exists. The operator sees any
message's status and never an attachment.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

import httpx
import pytest

from devinfra.samples import EXAMPLE_ATTACHMENT, example_message
from tests.integration.both_ways import post_as_kela

pytestmark = pytest.mark.integration
PDF = EXAMPLE_ATTACHMENT.read_bytes()
PDF_ID = hashlib.sha256(PDF).hexdigest()
HVA_08, HVA_06 = "hva-08-case-system", "hva-06-case-system"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _message_to_hva_08_with_an_attachment(api: httpx.AsyncClient, token_for: Callable[..., str]) -> str:
    """Kela uploads the PDF and sends hva-08 a late attachment referencing it (Tampere, 837); its message id."""
    upload = await api.post(
        "/kela/v1/attachments", content=PDF, headers=_auth(token_for()) | {"Content-Type": "application/pdf"}
    )
    assert upload.status_code == 201
    message_id = str(uuid.uuid4())
    document = example_message("late-attachment", message_id=message_id, municipality="837")
    assert (await post_as_kela(api, token_for(), document)).status_code == 202
    return message_id


def _shape(answer: httpx.Response) -> tuple[int, str, str]:
    """What a refusal reveals: status, code and title (the detail only echoes the id asked for)."""
    body = answer.json()
    return answer.status_code, body["code"], body["title"]


async def test_another_organisers_message_and_attachment_do_not_exist_for_a_case_system(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """hva-08 reads its message's status and attachment; hva-06 gets the 404 of an unknown id for both."""
    message_id = await _message_to_hva_08_with_an_attachment(api, token_for)
    status = await api.get(f"/kela/v1/messages/{message_id}", headers=_auth(token_for(HVA_08)))
    assert (status.status_code, status.json()["recipient"]) == (200, "hva-08")
    assert (await api.get(f"/attachments/{PDF_ID}", headers=_auth(token_for(HVA_08)))).content == PDF

    foreign_status = await api.get(f"/kela/v1/messages/{message_id}", headers=_auth(token_for(HVA_06)))
    unknown_status = await api.get(f"/kela/v1/messages/{uuid.uuid4()}", headers=_auth(token_for(HVA_06)))
    assert _shape(foreign_status) == _shape(unknown_status) == (404, "message-not-found", "Message not found")
    foreign_attachment = await api.get(f"/attachments/{PDF_ID}", headers=_auth(token_for(HVA_06)))
    unknown_attachment = await api.get(f"/attachments/{'f' * 64}", headers=_auth(token_for(HVA_06)))
    assert _shape(foreign_attachment) == _shape(unknown_attachment)
    assert _shape(foreign_attachment)[:2] == (404, "attachment-not-found")


async def test_an_organiser_fetches_what_it_uploaded_and_another_does_not(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """An upload by hva-08's case system is hva-08's to fetch; hva-06 gets 404 until a message of its names it."""
    content = PDF + uuid.uuid4().bytes  # content of this test's own, so no other message references it
    headers = _auth(token_for(HVA_08)) | {"Content-Type": "application/pdf"}
    upload = await api.post("/attachments", content=content, headers=headers)
    assert upload.status_code == 201
    attachment_id = upload.json()["attachment_id"]
    assert (await api.get(f"/attachments/{attachment_id}", headers=_auth(token_for(HVA_08)))).content == content
    foreign = await api.get(f"/attachments/{attachment_id}", headers=_auth(token_for(HVA_06)))
    assert (foreign.status_code, foreign.json()["code"]) == (404, "attachment-not-found")


async def test_the_operator_tracks_any_message_but_never_sees_content(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The operator reads the status of hva-08's message; its attachment, inbox and body are refused."""
    message_id = await _message_to_hva_08_with_an_attachment(api, token_for)
    operator = _auth(token_for("silta-operator"))
    status = await api.get(f"/kela/v1/messages/{message_id}", headers=operator)
    assert (status.status_code, status.json()["message_id"]) == (200, message_id)
    for path in (f"/attachments/{PDF_ID}", f"/kela/v1/inbox/{message_id}", "/kela/v1/inbox"):
        refused = await api.get(path, headers=operator)
        assert (refused.status_code, refused.json()["code"]) == (403, "client-not-allowed"), path
