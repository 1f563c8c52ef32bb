"""The pipeline reads document values by XML Schema's rules: edge values are accepted or coded rejections."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from broker.crypto.tokens import Caller
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.errors import ErrorCode, Rejection
from broker.settings import Settings
from broker.xml.envelope_reader import read_envelope
from devinfra.samples import example_message
from entrypoints.bootstrap import build_pipeline

PIPELINE = build_pipeline(Settings())
HVA_08 = Caller("hva-08-kafka", "hva-08")
CREATED_AT = f"{{{ENVELOPE_NAMESPACE}}}CreatedAt"
DUE_DATE = "{urn:fi:silta:information-request:1}DueDate"


def _with(document: bytes, tag: str, text: str) -> bytes:
    root = etree.fromstring(document)
    next(root.iter(tag)).text = text
    return etree.tostring(root)


def test_created_at_24_00_is_the_next_days_midnight() -> None:
    """The notice that looped the consumer: `24:00:00Z` passes the XSD and is read as 00:00 of the next day."""
    document = _with(example_message("decision-notice"), CREATED_AT, "2025-03-10T24:00:00Z")
    accepted = PIPELINE.accept(document, HVA_08)
    assert accepted.recipient == "kela"
    assert read_envelope(etree.fromstring(document)).created_at == dt.datetime(2025, 3, 11, tzinfo=dt.UTC)


@pytest.mark.parametrize("created_at", ["9999-12-31T24:00:00Z", "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z"])
def test_created_at_python_cannot_hold_is_a_coded_rejection(created_at: str) -> None:
    """A valid xs:dateTime outside years 1-9999 is `value-out-of-range` at the envelope's CreatedAt."""
    document = _with(example_message("decision-notice"), CREATED_AT, created_at)
    with pytest.raises(Rejection) as caught:
        PIPELINE.accept(document, HVA_08)
    assert caught.value.code is ErrorCode.VALUE_OUT_OF_RANGE
    assert [e.path for e in caught.value.errors] == ["/DecisionNotice/Envelope/CreatedAt"]


def test_due_date_with_a_zone_is_its_calendar_date() -> None:
    """An organiser's request due `2025-03-21-14:00` is due on 21 March."""
    document = _with(example_message("information-request", variant="from-hva-08"), DUE_DATE, "2025-03-21-14:00")
    assert PIPELINE.accept(document, HVA_08).due_date == dt.date(2025, 3, 21)


def test_due_date_in_the_year_10000_is_a_coded_rejection() -> None:
    """A five-digit year is valid xs:date; Silta cannot store it and says where it is."""
    document = _with(example_message("information-request", variant="from-hva-08"), DUE_DATE, "10000-01-01")
    with pytest.raises(Rejection) as caught:
        PIPELINE.accept(document, HVA_08)
    assert caught.value.code is ErrorCode.VALUE_OUT_OF_RANGE
    assert [e.path for e in caught.value.errors] == ["/InformationRequest/DueDate"]
