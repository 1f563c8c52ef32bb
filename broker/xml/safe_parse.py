"""Parse untrusted XML: no DTD, no entities, no network, no XInclude, bounded size and depth.

libxml2 is told not to load or resolve anything; then the tree is checked for
what must never be accepted even unexpanded (a DOCTYPE, entity references,
processing instructions, XInclude elements, schema location hints). Comments
are dropped at parse time so that nothing hidden in them is ever forwarded.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.identity_code import scrub_identity_codes
from broker.xml.paths import element_path

XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
_XINCLUDE_PREFIXES = tuple(f"{{{namespace}}}" for namespace in XINCLUDE_NAMESPACES)
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_LOCATION_HINTS = (f"{{{_XSI}}}schemaLocation", f"{{{_XSI}}}noNamespaceSchemaLocation")
# Looked for in the raw bytes before libxml2 sees them, so that a DTD is refused
# by name even where libxml2's own entity guards would fail first (billion laughs).
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


@dataclass(frozen=True)
class ParseLimits:
    """How much untrusted XML Silta is willing to read."""

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 32


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=False,
        collect_ids=False,
    )


def parse_untrusted(data: bytes, limits: ParseLimits) -> etree._Element:
    """Parse bytes from outside into an element tree, or raise a `Rejection`."""
    if len(data) > limits.max_bytes:
        raise Rejection(ErrorCode.BODY_TOO_LARGE, f"the document is over {limits.max_bytes} bytes")
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise _doctype_rejection()
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        reason = scrub_identity_codes(str(error.msg))
        raise Rejection(
            ErrorCode.XML_NOT_WELL_FORMED,
            "the document is not well-formed XML",
            [ErrorItem(f"line {error.lineno}, column {error.offset}", reason)],
        ) from None
    _refuse_doctype(root)
    _refuse_hostile_nodes(root, limits.max_depth)
    return root


def _refuse_doctype(root: etree._Element) -> None:
    docinfo = root.getroottree().docinfo
    # lxml-stubs lacks DocInfo.doctype, which lxml has had since 2.x
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:  # type: ignore[attr-defined]
        raise _doctype_rejection()


def _doctype_rejection() -> Rejection:
    return Rejection(
        ErrorCode.XML_DTD_FORBIDDEN,
        "document type declarations (and so entities) are not accepted",
        [ErrorItem("/", "DOCTYPE present")],
    )


def _refuse_hostile_nodes(root: etree._Element, max_depth: int) -> None:
    too_deep = root.xpath("/" + "/".join(["*"] * (max_depth + 1)))
    if isinstance(too_deep, list) and too_deep and isinstance(too_deep[0], etree._Element):
        raise Rejection(
            ErrorCode.XML_TOO_DEEP,
            f"elements are nested deeper than {max_depth}",
            [ErrorItem(element_path(too_deep[0]), f"depth {max_depth + 1}")],
        )
    for node in root.iter():
        tag = node.tag
        if not isinstance(tag, str):
            _refuse_special(node)
        elif tag.startswith(_XINCLUDE_PREFIXES):
            raise Rejection(
                ErrorCode.XML_XINCLUDE_FORBIDDEN,
                "XInclude elements are not accepted",
                [ErrorItem(element_path(node), "XInclude element")],
            )
        elif node.attrib:
            _refuse_location_hints(node)


def _refuse_location_hints(node: etree._Element) -> None:
    for hint in _LOCATION_HINTS:
        if hint in node.attrib:
            raise Rejection(
                ErrorCode.XML_EXTERNAL_REFERENCE,
                "schema location hints are not accepted; Silta validates against its own schemas",
                [ErrorItem(element_path(node) + "/@" + etree.QName(hint).localname, "location hint")],
            )


def _refuse_special(node: etree._Element) -> None:
    parent = node.getparent()
    where = element_path(parent) if parent is not None else "/"
    if isinstance(node, etree._Entity):
        raise Rejection(
            ErrorCode.XML_DTD_FORBIDDEN, "entity references are not accepted", [ErrorItem(where, "entity reference")]
        )
    if isinstance(node, etree._ProcessingInstruction):
        raise Rejection(
            ErrorCode.XML_PROCESSING_INSTRUCTION,
            "processing instructions are not accepted",
            [ErrorItem(where, "processing instruction")],
        )
