"""The fictitious documents of the workload, from the schemas' examples (identity codes 900–999 only)."""

from __future__ import annotations

import uuid

from lxml import etree

from broker.domain.envelope import ENVELOPE_NAMESPACE
from devinfra.samples import application_transfer, example_message

HOME_OF = {"hva-08": "837", "hva-90": "091"}
"""The organisers of the run and a municipality each serves (Tampere, Helsinki)."""
GUARDIAN_PRINCIPAL = "010594Y9032"
"""The examples' client, whose guardian answers Kela's requests addressed to the client."""


def new_id() -> str:
    """A fresh message id."""
    return str(uuid.uuid4())


def new_case() -> str:
    """A fresh case id."""
    return f"CHAOS-{uuid.uuid4().hex[:16]}"


def transfer(message_id: str, case_id: str, org: str) -> bytes:
    """Kela's application transfer to `org`."""
    return application_transfer(message_id, case_id, HOME_OF[org])


def late_attachment(message_id: str, case_id: str, org: str) -> bytes:
    """Kela's late attachment to an application it transferred (the examples' PDF, uploaded first)."""
    return example_message("late-attachment", message_id=message_id, case_id=case_id, municipality=HOME_OF[org])


def information_request(message_id: str, case_id: str, org: str, *, to_client: bool = False) -> bytes:
    """Kela's request for further information, to the organiser or (`to_client`) to the client."""
    variant = "to-client" if to_client else ""
    return example_message(
        "information-request", variant=variant, message_id=message_id, case_id=case_id, municipality=HOME_OF[org]
    )


def from_organiser(
    message_type: str, org: str, message_id: str, case_id: str, correlation_id: str | None = None
) -> bytes:
    """An organiser's message to Kela (`decision-notice`, `status-update`, `information-response`), sent by `org`."""
    variant = "" if message_type == "decision-notice" else "from-hva-08"
    document = example_message(
        message_type,
        variant=variant,
        message_id=message_id,
        case_id=case_id,
        correlation_id=correlation_id,
        municipality=HOME_OF[org],
    )
    root = etree.fromstring(document)
    sender = next(root.iter(f"{{{ENVELOPE_NAMESPACE}}}Sender"))
    sender.text = org
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
