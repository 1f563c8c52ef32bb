"""Read the envelope out of a schema-valid document, write the routed recipient into it, or start a new one."""

from __future__ import annotations

from lxml import etree

from broker.domain.catalogue import MessageType
from broker.domain.envelope import ENVELOPE_NAMESPACE, Envelope
from broker.xml.values import parse_datetime, read_value

_NS = {"env": ENVELOPE_NAMESPACE}


def _text(envelope: etree._Element, name: str) -> str | None:
    node = envelope.find(f"env:{name}", _NS)
    return None if node is None or node.text is None else node.text.strip()


def _required(envelope: etree._Element, name: str) -> str:
    value = _text(envelope, name)
    if value is None:
        raise ValueError(f"envelope has no {name}; validate the document first")
    return value


def _required_node(envelope: etree._Element, name: str) -> etree._Element:
    node = envelope.find(f"env:{name}", _NS)
    if node is None or node.text is None:
        raise ValueError(f"envelope has no {name}; validate the document first")
    return node


def read_envelope(root: etree._Element) -> Envelope:
    """The envelope of a document that has passed schema validation."""
    envelope = root.find("env:Envelope", _NS)
    if envelope is None:
        raise ValueError("document has no envelope; validate the document first")
    return Envelope(
        message_id=_required(envelope, "MessageId"),
        message_type=_required(envelope, "MessageType"),
        schema_version=_required(envelope, "SchemaVersion"),
        sender=_required(envelope, "Sender"),
        recipient=_text(envelope, "Recipient"),
        case_id=_required(envelope, "CaseId"),
        correlation_id=_text(envelope, "CorrelationId"),
        data_subject=_text(envelope, "DataSubject"),
        created_at=read_value(_required_node(envelope, "CreatedAt"), parse_datetime),
        legal_basis=_required(envelope, "LegalBasis"),
    )


def set_recipient(root: etree._Element, recipient: str) -> None:
    """Write the routed recipient into the envelope, right after the sender."""
    envelope = root.find("env:Envelope", _NS)
    if envelope is None:
        raise ValueError("document has no envelope")
    node = envelope.find("env:Recipient", _NS)
    if node is None:
        node = etree.Element(f"{{{ENVELOPE_NAMESPACE}}}Recipient")
        sender = envelope.find("env:Sender", _NS)
        if sender is None:
            raise ValueError("envelope has no sender")
        sender.addnext(node)
    node.text = recipient


def new_document(message_type: MessageType, envelope: Envelope) -> etree._Element:
    """The root of a new document of `message_type` holding `envelope`; the caller appends the body."""
    namespace = message_type.namespace
    tag = f"{{{namespace}}}{message_type.root_element}"
    root = etree.Element(tag, nsmap={None: namespace, "env": ENVELOPE_NAMESPACE})  # type: ignore[dict-item]  # lxml
    node = etree.SubElement(root, f"{{{ENVELOPE_NAMESPACE}}}Envelope")
    fields = [
        ("MessageId", envelope.message_id),
        ("MessageType", envelope.message_type),
        ("SchemaVersion", envelope.schema_version),
        ("Sender", envelope.sender),
        ("Recipient", envelope.recipient),
        ("CaseId", envelope.case_id),
        ("CorrelationId", envelope.correlation_id),
        ("DataSubject", envelope.data_subject),
        ("CreatedAt", envelope.created_at.isoformat(timespec="seconds")),
        ("LegalBasis", envelope.legal_basis),
    ]
    for name, value in fields:
        if value is not None:
            etree.SubElement(node, f"{{{ENVELOPE_NAMESPACE}}}{name}").text = value
    return root
