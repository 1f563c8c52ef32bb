"""The guardians' portal: a limited view of a principal's matters, and uploads that answer open requests.

Every call carries the portal's service token and a single-use guardian
assertion. A principal is named by an opaque reference per mandate, never an
identity code; a reference that is unknown, another guardian's, ended, future
or outside the financial scope gets the same 404, so a refusal does not reveal
whether the principal exists. Every view and upload goes to the usage log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.http import ATTACHMENT_BODY, media_type_of, problem_responses, read_body, services_of, today_in_finland
from adapters.parameters import PrincipalRef, RequestId
from broker.crypto.assertions import ASSERTION_HEADER, GuardianAssertion
from broker.crypto.tokens import Caller
from broker.domain.errors import ErrorCode, Rejection
from broker.services.attachments import check_upload, store_attachment
from broker.services.checks import check_against_store
from broker.services.guardian_upload import late_attachment, recipients_of
from broker.services.guardian_view import find_open_request, principal_view
from broker.services.receipts import SILTA
from broker.store.audit_log import append_entries
from broker.store.mandates import mandate_for, principals_of, spend_assertion
from broker.store.messages import insert_accepted
from broker.store.tables import GuardianMandate

router = APIRouter(prefix="/guardian/v1", tags=["guardian"])
_ERRORS: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 404)
_PURPOSE = "the guardian handles the principal's financial matters (442/1999 29 §; 1412/1997 17 §)"


async def _guardian(request: Request, session: AsyncSession) -> tuple[Caller, GuardianAssertion]:
    """The portal (by its service token) and the guardian it vouches for (by a fresh, unused assertion)."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    if caller.client_id not in services.settings.guardian_portal_clients:
        raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, "only a guardians' portal may use /guardian/v1")
    assertion = services.assertions.verify(request.headers.get(ASSERTION_HEADER), caller)
    if not await spend_assertion(session, assertion, dt.datetime.now(dt.UTC)):
        raise Rejection(ErrorCode.GUARDIAN_ASSERTION_REPLAYED, "the assertion was already used; get a fresh one")
    return caller, assertion


async def _mandate(session: AsyncSession, guardian: GuardianAssertion, principal_ref: str) -> GuardianMandate:
    mandate = await mandate_for(session, guardian.guardian_id, principal_ref, today_in_finland())
    if mandate is None:
        raise Rejection(ErrorCode.PRINCIPAL_NOT_FOUND, "no principal with that reference for this guardian")
    return mandate


def _usage(caller: Caller, guardian: GuardianAssertion, mandate: GuardianMandate, data: list[str]) -> tuple[str, Any]:
    return mandate.principal_subject, {
        "user": guardian.guardian_id,
        "via": caller.client_id,
        "party": "guardian",
        "purpose": _PURPOSE,
        "data": data,
        "principal_ref": mandate.principal_ref,
    }


@router.get("/principals", responses=_ERRORS)
async def list_principals(request: Request) -> dict[str, Any]:
    """The principals whose financial matters the guardian handles today, by opaque reference."""
    async with services_of(request).sessions() as session, session.begin():
        _, guardian = await _guardian(request, session)
        mandates = await principals_of(session, guardian.guardian_id, today_in_finland())
    return {
        "principals": [
            {
                "principal_ref": m.principal_ref,
                "scope": m.scope,
                "valid_from": m.valid_from.isoformat(),
                "valid_to": m.valid_to.isoformat() if m.valid_to else None,
                "href": f"/guardian/v1/principals/{m.principal_ref}",
            }
            for m in mandates
        ]
    }


@router.get("/principals/{principal_ref}", responses=_ERRORS)
async def principal(principal_ref: PrincipalRef, request: Request) -> dict[str, Any]:
    """Applications and their status, decisions, and open requests with every missing item and the due date."""
    services = services_of(request)
    async with services.sessions() as session, session.begin():
        caller, guardian = await _guardian(request, session)
        mandate = await _mandate(session, guardian, principal_ref)
        view = await principal_view(session, services.pipeline, mandate.principal_subject, today_in_finland())
        usage = _usage(caller, guardian, mandate, sorted(view.categories))
        await append_entries(session, "usage", [usage], dt.datetime.now(dt.UTC))
    return {
        "principal_ref": principal_ref,
        "applications": view.applications,
        "decisions": view.decisions,
        "open_requests": view.open_requests,
    }


@router.post(
    "/principals/{principal_ref}/requests/{request_id}/attachments",
    status_code=201,
    responses=problem_responses(401, 403, 404, 413, 415, 422),
    openapi_extra=ATTACHMENT_BODY,
)
async def upload(principal_ref: PrincipalRef, request_id: RequestId, request: Request) -> JSONResponse:
    """Answer an open request with an attachment: to Kela and, for a transferred application, the organiser."""
    services = services_of(request)
    media_type = media_type_of(request)
    async with services.sessions() as session, session.begin():
        caller, guardian = await _guardian(request, session)
        mandate = await _mandate(session, guardian, principal_ref)
        today = today_in_finland()
        open_request = await find_open_request(session, services.pipeline, mandate.principal_subject, request_id, today)
        if open_request is None:
            raise Rejection(ErrorCode.REQUEST_NOT_FOUND, "no open request with that id for this principal")
        content = await read_body(request, services.settings.max_attachment_bytes)
        check_upload(content, media_type, services.settings.max_attachment_bytes)
        attachment = await store_attachment(session, content, media_type, SILTA)
        deliveries = []
        for recipient in recipients_of(open_request):
            message = services.pipeline.accept_from_silta(
                late_attachment(open_request, attachment, recipient), recipient
            )
            await insert_accepted(session, [await check_against_store(session, message)])
            deliveries.append({"message_id": message.message_id, "recipient": recipient})
        usage = _usage(caller, guardian, mandate, ["Attachments"])
        await append_entries(session, "usage", [usage], dt.datetime.now(dt.UTC))
    services.relay.wake()
    return JSONResponse({"attachment_id": attachment.attachment_id, "deliveries": deliveries}, status_code=201)
