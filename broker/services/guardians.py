"""The guardians' portal: a limited view of a principal's matters, and uploads that answer open requests.

Every call carries the portal's service token and a single-use guardian
assertion, which the edge spends and commits before the call's own unit of
work begins (a refused call uses it up too). A principal is named by an opaque
reference per mandate; a reference that is unknown, another guardian's, ended,
future or outside the financial scope is the same `principal-not-found`, so a
refusal does not reveal whether the principal exists. Every view and upload
goes to the usage log (442/1999 29 §; 703/2023 10 §).
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.crypto.assertions import AssertionVerifier, GuardianAssertion
from broker.crypto.ids import MessageIds
from broker.crypto.tokens import Caller
from broker.domain.accepted import SaveOutcome
from broker.domain.clock import finnish_date
from broker.domain.disclosure import Pseudonym, UsageEntry
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.parties import SILTA
from broker.pipeline import MessagePipeline
from broker.services.attachments import check_upload, store_attachment
from broker.services.checks import admit
from broker.services.guardian_upload import late_attachment, recipients_of
from broker.services.guardian_view import PrincipalView, find_open_request, principal_view
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import append_entries
from broker.store.mandates import mandate_for, principals_of, spend_assertion, subjects_of
from broker.store.messages import insert_accepted
from broker.store.tables import GuardianMandate

_PURPOSE = "the guardian handles the principal's financial matters (442/1999 29 §; 1412/1997 17 §)"


@dataclass(frozen=True)
class Guardian:
    """The portal that called and the guardian it vouched for."""

    portal: Caller
    assertion: GuardianAssertion


@dataclass(frozen=True)
class Delivery:
    """A late attachment sent on the principal's behalf."""

    message_id: str
    recipient: str


@dataclass(frozen=True)
class Upload:
    """The attachment stored and the late attachments that carry it."""

    attachment_id: str
    deliveries: tuple[Delivery, ...]


class GuardianDesk:
    """The use cases of the guardians' portal."""

    def __init__(
        self,
        pipeline: MessagePipeline,
        assertions: AssertionVerifier,
        ids: MessageIds,
        max_attachment_bytes: int,
    ) -> None:
        self._pipeline = pipeline
        self._assertions = assertions
        self._ids = ids
        self._max_bytes = max_attachment_bytes

    async def guardian(self, uow: UnitOfWork, portal: Caller, assertion_header: str | None) -> Guardian:
        """The guardian a portal vouches for with a fresh assertion, which this spends.

        Only portals reach this (the route table); the assertion itself must name the calling portal (`azp`).
        """
        assertion = await self._assertions.verify_live(assertion_header, portal)
        if not await spend_assertion(uow.session, assertion, uow.now):
            raise Rejection(ErrorCode.GUARDIAN_ASSERTION_REPLAYED, "the assertion was already used; get a fresh one")
        return Guardian(portal, assertion)

    async def principals(self, uow: UnitOfWork, guardian: Guardian) -> list[GuardianMandate]:
        """The mandates valid today whose scope covers financial matters."""
        return await principals_of(uow.session, guardian.assertion.guardian_id, finnish_date(uow.now))

    async def principal(self, uow: UnitOfWork, guardian: Guardian, principal_ref: str) -> PrincipalView:
        """Applications, decisions and open requests of one principal; the view goes to the usage log."""
        mandate = await self._mandate(uow, guardian, principal_ref)
        subjects = await subjects_of(uow.session, mandate.principal_ref)
        view = await principal_view(uow.session, self._pipeline, [s.value for s in subjects], finnish_date(uow.now))
        await self._log_usage(uow, guardian, mandate, subjects, sorted(view.categories))
        return view

    async def upload(
        self,
        uow: UnitOfWork,
        guardian: Guardian,
        principal_ref: str,
        request_id: str,
        *,
        content: bytes,
        media_type: str,
    ) -> Upload:
        """Answer an open request with an attachment: to Kela and, for a transferred application, the organiser.

        The late attachments' ids follow from the request and the attachment, so a retry changes nothing.
        """
        mandate = await self._mandate(uow, guardian, principal_ref)
        subjects, on = await subjects_of(uow.session, mandate.principal_ref), finnish_date(uow.now)
        request = await find_open_request(uow.session, self._pipeline, [s.value for s in subjects], request_id, on)
        if request is None:
            raise Rejection(ErrorCode.REQUEST_NOT_FOUND, "no open request with that id for this principal")
        check_upload(content, media_type, self._max_bytes)
        attachment = await store_attachment(uow.session, content, media_type, SILTA, uow.now)
        deliveries = []
        for recipient in recipients_of(request):
            message_id = self._ids.derive("guardian-upload", request.message_id, attachment.attachment_id, recipient)
            document = late_attachment(request, attachment, recipient, message_id)
            outcome, message = await admit(uow.session, self._pipeline.accept_from_silta(document, recipient))
            if outcome is SaveOutcome.STORED:
                await insert_accepted(uow.session, [message])
                uow.outbox_written()
            deliveries.append(Delivery(message.message_id, recipient))
        await self._log_usage(uow, guardian, mandate, subjects, ["Attachments"])
        return Upload(attachment.attachment_id, tuple(deliveries))

    async def _mandate(self, uow: UnitOfWork, guardian: Guardian, principal_ref: str) -> GuardianMandate:
        mandate = await mandate_for(uow.session, guardian.assertion.guardian_id, principal_ref, finnish_date(uow.now))
        if mandate is None:
            raise Rejection(ErrorCode.PRINCIPAL_NOT_FOUND, "no principal with that reference for this guardian")
        return mandate

    async def _log_usage(
        self, uow: UnitOfWork, guardian: Guardian, mandate: GuardianMandate, subjects: list[Pseudonym], data: list[str]
    ) -> None:
        """A usage entry under the principal's pseudonym of the newest key version the mandate has."""
        usage = UsageEntry(
            subjects[0] if subjects else None,
            guardian.assertion.guardian_id,
            "guardian",
            _PURPOSE,
            tuple(data),
            {"via": guardian.portal.client_id, "principal_ref": mandate.principal_ref},
        )
        await append_entries(uow.session, "usage", [usage.log_entry()], uow.now)
