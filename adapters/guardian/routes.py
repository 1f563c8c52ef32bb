"""The guardians' portal: a limited view of a principal's matters, and uploads that answer open requests.

Every call carries the portal's service token and a single-use guardian
assertion. A principal is named by an opaque reference per mandate, never an
identity code; a reference that is unknown, another guardian's, ended, future
or outside the financial scope gets the same 404, so a refusal does not reveal
whether the principal exists. Every view and upload goes to the usage log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from adapters.access import AccessChecked
from adapters.http import (
    ATTACHMENT_BODY,
    Authenticated,
    Services,
    Unit,
    media_type_of,
    problem_responses,
    read_body,
)
from adapters.parameters import PrincipalRef, RequestId
from broker.crypto.assertions import ASSERTION_HEADER
from broker.services.guardians import Guardian

router = APIRouter(prefix="/guardian/v1", tags=["guardian"], route_class=AccessChecked)
_ERRORS: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 404)


async def guardian_of(
    services: Services,
    portal: Authenticated,
    assertion: Annotated[str | None, Header(alias=ASSERTION_HEADER, include_in_schema=False)] = None,
) -> Guardian:
    """The guardian the portal vouches for; the assertion is spent and committed at once, in a unit of its own.

    So a call that is refused afterwards (an unknown principal, a bad upload) still uses the assertion up: one
    assertion can never probe a second principal reference, and no lock is held while a body streams in.
    """
    async with services.units() as uow:
        guardian = await services.guardians.guardian(uow, portal, assertion)
        await uow.commit()
    return guardian


VouchedGuardian = Annotated[Guardian, Depends(guardian_of)]


@router.get("/principals", responses=_ERRORS)
async def list_principals(services: Services, guardian: VouchedGuardian, uow: Unit) -> dict[str, Any]:
    """The principals whose financial matters the guardian handles today, by opaque reference."""
    mandates = await services.guardians.principals(uow, guardian)
    await uow.commit()
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
async def principal(
    principal_ref: PrincipalRef, services: Services, guardian: VouchedGuardian, uow: Unit
) -> dict[str, Any]:
    """Applications and their status, decisions, and open requests with every missing item and the due date."""
    view = await services.guardians.principal(uow, guardian, principal_ref)
    await uow.commit()
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
async def upload(
    principal_ref: PrincipalRef,
    request_id: RequestId,
    request: Request,
    *,
    services: Services,
    guardian: VouchedGuardian,
    uow: Unit,
) -> JSONResponse:
    """Answer an open request with an attachment: to Kela and, for a transferred application, the organiser.

    A retry of the same upload (after a timeout, say) stores nothing new and answers the same.
    """
    content = await read_body(request, services.settings.max_attachment_bytes)
    result = await services.guardians.upload(
        uow, guardian, principal_ref, request_id, content=content, media_type=media_type_of(request)
    )
    await uow.commit()
    deliveries = [{"message_id": d.message_id, "recipient": d.recipient} for d in result.deliveries]
    return JSONResponse({"attachment_id": result.attachment_id, "deliveries": deliveries}, status_code=201)
