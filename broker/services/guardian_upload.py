"""A guardian's attachment answering an open request, sent on the principal's behalf as late attachments.

Silta builds one `late-attachment` per recipient: Kela always, and the
organiser when the request concerns an application that was transferred (the
request travelled between Kela and that organiser). The client's details come
from the request itself; `SubmittedBy` says a guardian delivered it.
"""

from __future__ import annotations

from lxml import etree

from broker.domain.catalogue import CATALOGUE
from broker.domain.envelope import ENVELOPE_NAMESPACE, Envelope
from broker.domain.parties import KELA, SILTA, PartyRole, role_of
from broker.store.tables import Attachment, MessageRecord
from broker.xml.envelope_reader import new_document

LATE_ATTACHMENT = CATALOGUE["late-attachment"]
_REQUEST_NS = CATALOGUE["information-request"].namespace
GUARDIAN_LEGAL_BASIS = "1412/1997 14 c §; 18 h §; 442/1999 29 §"


def recipients_of(request: MessageRecord) -> list[str]:
    """Kela, and the organiser the request travelled to or from."""
    organisers = [p for p in (request.sender, request.recipient) if role_of(p) is PartyRole.ORGANISER]
    return [KELA, *organisers]


def late_attachment(request: MessageRecord, attachment: Attachment, recipient: str, message_id: str) -> bytes:
    """The late-attachment document for one recipient, built from the request's stored body.

    Everything in it follows from the request, the attachment and `message_id`, so an upload retried after a
    timeout builds the same bytes and the store answers it as a duplicate.
    """
    source = etree.fromstring(request.body)
    env, ns = ENVELOPE_NAMESPACE, LATE_ATTACHMENT.namespace
    envelope = Envelope(
        message_id=message_id,
        message_type=LATE_ATTACHMENT.name,
        schema_version=LATE_ATTACHMENT.schema_version,
        sender=SILTA,
        recipient=recipient,
        case_id=request.case_id,
        correlation_id=request.message_id,
        data_subject=source.findtext(f"{{{env}}}Envelope/{{{env}}}DataSubject"),
        created_at=attachment.uploaded_at,
        legal_basis=GUARDIAN_LEGAL_BASIS,
    )
    root = new_document(LATE_ATTACHMENT, envelope)
    client = etree.SubElement(root, f"{{{ns}}}Client")
    source_client = source.find(f"{{{_REQUEST_NS}}}Client")
    for child in source_client if source_client is not None else []:
        etree.SubElement(client, f"{{{ns}}}{etree.QName(child).localname}").text = child.text
    reference = source.findtext(f"{{{_REQUEST_NS}}}ApplicationReference") or request.case_id
    etree.SubElement(root, f"{{{ns}}}ApplicationReference").text = reference
    etree.SubElement(root, f"{{{ns}}}SubmittedBy").text = "guardian"
    entry = etree.SubElement(etree.SubElement(root, f"{{{ns}}}Attachments"), f"{{{ns}}}Attachment")
    values = [
        ("AttachmentId", attachment.attachment_id),
        ("Title", "Attachment delivered by the guardian"),
        ("MediaType", attachment.media_type),
        ("Size", str(attachment.size)),
        ("Sha256", attachment.attachment_id),
    ]
    for name, value in values:
        etree.SubElement(entry, f"{{{ns}}}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
