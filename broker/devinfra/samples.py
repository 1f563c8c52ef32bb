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
_TRANSFER_NS = "urn:fi:silta:application-transfer:1"


def application_transfer(
    message_id: str | None = None, case_id: str | None = None, municipality: str = "091", sender: str = "kela"
) -> bytes:
    """A valid application transfer with its own message id (random unless given)."""
    root = etree.fromstring(EXAMPLE.read_bytes(), etree.XMLParser(remove_comments=True))
    values = {
        f"{{{ENVELOPE_NAMESPACE}}}MessageId": message_id or str(uuid.uuid4()),
        f"{{{ENVELOPE_NAMESPACE}}}CaseId": case_id or f"KELA-TOTU-{uuid.uuid4().hex[:12]}",
        f"{{{ENVELOPE_NAMESPACE}}}Sender": sender,
        f"{{{_TRANSFER_NS}}}HomeMunicipality": municipality,
    }
    for tag, value in values.items():
        node = next(root.iter(tag))
        node.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_extension(document: bytes, xml: str) -> bytes:
    """The document with `xml` (elements in another namespace) inside its Extensions element."""
    root = etree.fromstring(document)
    extensions = etree.SubElement(root, f"{{{_TRANSFER_NS}}}Extensions")
    extensions.append(etree.fromstring(xml))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
