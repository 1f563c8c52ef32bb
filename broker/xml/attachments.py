"""The attachment manifest of a document: every `Attachment` element's id, media type, size and hash."""

from __future__ import annotations

from lxml import etree

from broker.domain.attachments import AttachmentRef
from broker.xml.paths import element_path
from broker.xml.values import parse_integer


def manifest(root: etree._Element) -> tuple[AttachmentRef, ...]:
    """The attachments a schema-valid document references, in document order."""
    namespace = etree.QName(root).namespace
    refs = []
    for node in root.iter(f"{{{namespace}}}Attachment"):
        values = {
            etree.QName(child).localname: (child.text or "").strip() for child in node if isinstance(child.tag, str)
        }
        if "AttachmentId" not in values:
            continue
        refs.append(
            AttachmentRef(
                values["AttachmentId"],
                values.get("MediaType", ""),
                parse_integer(values.get("Size") or "0"),
                values.get("Sha256", ""),
                element_path(node),
            )
        )
    return tuple(refs)
