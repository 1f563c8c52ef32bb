"""Pipeline stages that need no I/O: authorisation, routing checks, case ids."""

from __future__ import annotations

import pytest
from lxml import etree

from broker.crypto.tokens import Caller
from broker.domain.errors import ErrorCode, Rejection
from broker.settings import Settings
from devinfra.samples import application_transfer
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KELA

PIPELINE = build_pipeline(Settings())


def _code(document: bytes, caller: Caller = KELA) -> ErrorCode:
    with pytest.raises(Rejection) as caught:
        PIPELINE.accept(document, caller)
    return caught.value.code


def test_caller_must_be_the_envelope_sender() -> None:
    """An organiser's credential cannot send a document that claims to come from Kela."""
    assert _code(application_transfer(), Caller("hva-08-case-system", "hva-08")) is ErrorCode.SENDER_MISMATCH


def test_organiser_may_not_send_an_application_transfer() -> None:
    """Only Kela transfers applications (14 c §)."""
    document = application_transfer(sender="hva-08")
    assert _code(document, Caller("hva-08-case-system", "hva-08")) is ErrorCode.SENDER_NOT_ALLOWED


def test_recipient_given_by_sender_must_match_routing() -> None:
    """A recipient in the envelope that routing contradicts is refused."""
    root = etree.fromstring(application_transfer(municipality="091"))
    sender = next(root.iter("{urn:fi:silta:envelope:1}Sender"))
    recipient = etree.Element("{urn:fi:silta:envelope:1}Recipient")
    recipient.text = "hva-08"
    sender.addnext(recipient)
    assert _code(etree.tostring(root)) is ErrorCode.RECIPIENT_MISMATCH


def test_routed_recipient_is_written_into_the_delivered_envelope() -> None:
    """The organiser sees itself as the recipient and the topic is its own."""
    accepted = PIPELINE.accept(application_transfer(municipality="837"), KELA)
    assert accepted.recipient == "hva-08"
    assert accepted.record.topic == "silta.to.hva-08.v1"
    assert b"<env:Recipient>hva-08</env:Recipient>" in accepted.record.value


def test_record_key_is_the_case_id_and_headers_name_the_message() -> None:
    """Key = case id (per-case order); headers carry id, type, schema, sender; the relay seals it later."""
    accepted = PIPELINE.accept(
        application_transfer(message_id="0b9a4c1e-8f7d-4e6a-9b2c-3d4e5f6a7b8c", case_id="C-1"), KELA
    )
    headers = dict(accepted.record.headers)
    assert accepted.record.key == "C-1"
    assert headers == {
        "silta-message-id": "0b9a4c1e-8f7d-4e6a-9b2c-3d4e5f6a7b8c",
        "silta-message-type": "application-transfer",
        "silta-schema": "urn:fi:silta:application-transfer:1#1.0",
        "silta-sender": "kela",
        "silta-recipient": "hva-90",
        "silta-free-text": "CostItems/CostItem/Description",
    }


def test_unknown_root_element_is_an_unknown_message_type() -> None:
    """A well-formed document of no known type is refused with its own code."""
    assert _code(b'<Invoice xmlns="urn:example"/>') is ErrorCode.UNKNOWN_MESSAGE_TYPE


def test_envelope_type_must_match_the_root_element() -> None:
    """The envelope cannot claim a different message type from the document's root."""
    document = application_transfer().replace(b">application-transfer<", b">decision-notice<")
    assert _code(document) is ErrorCode.SCHEMA_INVALID
