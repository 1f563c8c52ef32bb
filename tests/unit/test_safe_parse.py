"""Hardened parsing: every hostile input gets its own error code and reads nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from broker.domain.errors import ErrorCode, Rejection
from broker.xml.safe_parse import ParseLimits, parse_untrusted
from devinfra.samples import EXAMPLE

LIMITS = ParseLimits(max_bytes=64 * 1024, max_depth=12)


def _rejection_code(data: bytes, limits: ParseLimits = LIMITS) -> ErrorCode:
    with pytest.raises(Rejection) as caught:
        parse_untrusted(data, limits)
    return caught.value.code


def test_valid_example_parses() -> None:
    """A normal message parses."""
    root = parse_untrusted(EXAMPLE.read_bytes(), LIMITS)
    assert root.tag == "{urn:fi:silta:application-transfer:1}ApplicationTransfer"


def test_comments_are_dropped() -> None:
    """Nothing hidden in a comment can ever be forwarded."""
    root = parse_untrusted(b"<r><!-- 010594Y9032 --><a>x</a></r>", LIMITS)
    assert etree.tostring(root) == b"<r><a>x</a></r>"


def test_external_entity_is_refused_before_any_file_is_read(tmp_path: Path) -> None:
    """XXE: a DOCTYPE with a SYSTEM entity is refused as xml-dtd-forbidden; the file is never read."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = f'<!DOCTYPE r [<!ENTITY s SYSTEM "file://{secret}">]><r>&s;</r>'.encode()
    with pytest.raises(Rejection) as caught:
        parse_untrusted(data, LIMITS)
    assert caught.value.code is ErrorCode.XML_DTD_FORBIDDEN
    assert "TOP-SECRET" not in str(caught.value)


def test_billion_laughs_is_refused_fast() -> None:
    """Exponential entity expansion is refused as a DTD, not expanded."""
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    data = f'<!DOCTYPE r [<!ENTITY l0 "lol">{entities}]><r>&l9;</r>'.encode()
    assert _rejection_code(data) is ErrorCode.XML_DTD_FORBIDDEN


def test_doctype_in_utf16_is_refused() -> None:
    """A DOCTYPE hidden in another encoding is refused too."""
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16")
    assert _rejection_code(data) is ErrorCode.XML_DTD_FORBIDDEN


def test_xinclude_is_refused() -> None:
    """An XInclude element is refused; it is never processed."""
    data = b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></r>'
    assert _rejection_code(data) is ErrorCode.XML_XINCLUDE_FORBIDDEN


@pytest.mark.parametrize("hint", ["schemaLocation", "noNamespaceSchemaLocation"])
def test_schema_location_hints_are_refused(hint: str) -> None:
    """A document may not point at a schema of its own choosing."""
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    data = f'<r xmlns:xsi="{xsi}" xsi:{hint}="http://198.51.100.7/x.xsd"/>'.encode()
    assert _rejection_code(data) is ErrorCode.XML_EXTERNAL_REFERENCE


def test_processing_instructions_are_refused() -> None:
    """Processing instructions inside the document are refused."""
    assert _rejection_code(b'<r><?xml-stylesheet href="http://x/y.xsl"?></r>') is ErrorCode.XML_PROCESSING_INSTRUCTION


def test_too_deep_is_refused_with_the_path() -> None:
    """Nesting beyond the limit is refused and the error names where."""
    data = b"<a>" * 13 + b"</a>" * 13
    with pytest.raises(Rejection) as caught:
        parse_untrusted(data, LIMITS)
    assert caught.value.code is ErrorCode.XML_TOO_DEEP
    assert caught.value.errors[0].path.count("/a") == 13


def test_too_large_is_refused_before_parsing() -> None:
    """A document over the byte limit is refused as body-too-large."""
    assert _rejection_code(b"<r>" + b"x" * 70_000 + b"</r>") is ErrorCode.BODY_TOO_LARGE


def test_not_well_formed_names_line_and_column() -> None:
    """A syntax error is reported with where it is."""
    with pytest.raises(Rejection) as caught:
        parse_untrusted(b"<r>\n  <a></b>\n</r>", LIMITS)
    assert caught.value.code is ErrorCode.XML_NOT_WELL_FORMED
    assert caught.value.errors[0].path.startswith("line 2")


def test_syntax_errors_do_not_echo_identity_codes() -> None:
    """An error message about broken text never repeats an identity code found in it."""
    with pytest.raises(Rejection) as caught:
        parse_untrusted(b"<r><010594Y9032/></r>", LIMITS)
    assert "010594Y9032" not in str(caught.value.errors)
