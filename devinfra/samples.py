"""Fictitious application transfers for tests, the benchmark and demos.

Built from the schema's valid example; every identity code in it has an
individual number 900-999.
"""

from __future__ import annotations

import uuid

from lxml import etree

from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "schemas" / "examples" / "valid" / "application-transfer.xml"
EXAMPLE_ATTACHMENT = PROJECT_ROOT / "schemas" / "examples" / "attachments" / "club-invoice.pdf"
"""The fictitious PDF every example's manifest references (upload it before sending the example)."""
_TRANSFER_NS = "urn:fi:silta:application-transfer:1"


def application_transfer(
    message_id: str | None = None,
    case_id: str | None = None,
    municipality: str = "091",
    sender: str = "kela",
    *,
    with_attachments: bool = False,
    schema_version: str = "1.0",
    preferred_language: str | None = None,
) -> bytes:
    """A valid application transfer with its own message id (random unless given).

    Without `with_attachments` the manifest is left out, so the transfer needs no upload first.
    `schema_version` goes into the envelope; `preferred_language` (a 2.0 field) into the applicant.
    """
    root = etree.fromstring(EXAMPLE.read_bytes(), etree.XMLParser(remove_comments=True))
    if not with_attachments:
        for manifest in root.findall(f"{{{_TRANSFER_NS}}}Attachments"):
            root.remove(manifest)
    values = {
        f"{{{ENVELOPE_NAMESPACE}}}MessageId": message_id or str(uuid.uuid4()),
        f"{{{ENVELOPE_NAMESPACE}}}CaseId": case_id or f"KELA-TOTU-{uuid.uuid4().hex[:12]}",
        f"{{{ENVELOPE_NAMESPACE}}}Sender": sender,
        f"{{{_TRANSFER_NS}}}HomeMunicipality": municipality,
        f"{{{ENVELOPE_NAMESPACE}}}SchemaVersion": schema_version,
    }
    for tag, value in values.items():
        node = next(root.iter(tag))
        node.text = value
    if preferred_language is not None:
        language = etree.Element(f"{{{_TRANSFER_NS}}}PreferredLanguage")
        language.text = preferred_language
        next(root.iter(f"{{{_TRANSFER_NS}}}HomeMunicipality")).addnext(language)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_extension(document: bytes, xml: str) -> bytes:
    """The document with `xml` (elements in another namespace) inside its Extensions element."""
    root = etree.fromstring(document)
    extensions = etree.SubElement(root, f"{{{_TRANSFER_NS}}}Extensions")
    extensions.append(etree.fromstring(xml))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def example_message(
    message_type: str,
    *,
    variant: str = "",
    message_id: str | None = None,
    case_id: str | None = None,
    correlation_id: str | None = None,
    municipality: str | None = None,
) -> bytes:
    """A valid fictitious message of any type, from its schema example, with its own message id.

    `variant` picks `<type>--<variant>.xml` (e.g. `from-hva-08` for an organiser's copy of a
    both-ways type); `correlation_id` sets what it answers; `municipality` the client's home.
    """
    name = f"{message_type}--{variant}.xml" if variant else f"{message_type}.xml"
    root = etree.fromstring((EXAMPLE.parent / name).read_bytes(), etree.XMLParser(remove_comments=True))
    namespace = etree.QName(root).namespace
    _set(root, f"{{{ENVELOPE_NAMESPACE}}}MessageId", message_id or str(uuid.uuid4()))
    if case_id is not None:
        _set(root, f"{{{ENVELOPE_NAMESPACE}}}CaseId", case_id)
    if correlation_id is not None:
        _set(root, f"{{{ENVELOPE_NAMESPACE}}}CorrelationId", correlation_id)
    if municipality is not None:
        _set(root, f"{{{namespace}}}HomeMunicipality", municipality)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _set(root: etree._Element, tag: str, value: str) -> None:
    node = next(root.iter(tag), None)
    if node is None:
        raise ValueError(f"the example has no {tag}")
    node.text = value
