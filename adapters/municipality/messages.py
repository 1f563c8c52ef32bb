"""Typed messages handed to an organiser's case system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from lxml import etree

from broker.domain.catalogue import APPLICATION_TRANSFER
from broker.domain.envelope import Envelope
from broker.xml.envelope_reader import read_envelope
from broker.xml.values import parse_date, parse_datetime, parse_decimal, parse_integer, read_value

_NS = {"t": APPLICATION_TRANSFER.namespace}
T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    """A person named in a message. `personal_identity_code` must never be logged."""

    personal_identity_code: str
    given_names: str
    surname: str

    def __repr__(self) -> str:
        return f"Person(given_names={self.given_names!r}, surname={self.surname!r})"


@dataclass(frozen=True)
class CostItem:
    """A cost presented that falls outside basic assistance."""

    category: str
    amount: Decimal
    description: str


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment by claim check: fetch the bytes by id, check size and SHA-256."""

    attachment_id: str
    title: str
    media_type: str
    size: int
    sha256: str
    cost_category: str | None


@dataclass(frozen=True)
class ApplicationTransfer:
    """Kela's transfer of an application to the organiser (1412/1997 14 c §)."""

    envelope: Envelope
    applicant: Person
    home_municipality: str
    household: tuple[tuple[Person, str], ...]
    basic_decision_reference: str
    basic_decision_date: dt.date
    period: tuple[dt.date, dt.date]
    cost_items: tuple[CostItem, ...]
    urgency: str
    transfer_requested_at: dt.datetime
    attachments: tuple[AttachmentRef, ...]
    preferred_language: str | None = None
    """From schema version 2.0 (`envelope.schema_version`): the language the applicant chose, if any."""


def _text(node: etree._Element, path: str) -> str:
    found = node.find(path, _NS)
    if found is None or found.text is None:
        raise ValueError(f"missing {path}")
    return found.text.strip()


def _value(node: etree._Element, path: str, parse: Callable[[str], T]) -> T:
    """A typed value by XML Schema's rules (24:00:00, zoned dates); a coded `Rejection` if Python cannot hold it."""
    found = node.find(path, _NS)
    if found is None or found.text is None:
        raise ValueError(f"missing {path}")
    return read_value(found, parse)


def _optional(node: etree._Element, path: str) -> str | None:
    found = node.find(path, _NS)
    return None if found is None or found.text is None else found.text.strip()


def _person(node: etree._Element) -> Person:
    return Person(_text(node, "t:PersonalIdentityCode"), _text(node, "t:GivenNames"), _text(node, "t:Surname"))


def _attachment(node: etree._Element) -> AttachmentRef:
    return AttachmentRef(
        _text(node, "t:AttachmentId"),
        _text(node, "t:Title"),
        _text(node, "t:MediaType"),
        _value(node, "t:Size", parse_integer),
        _text(node, "t:Sha256"),
        _optional(node, "t:CostCategory"),
    )


def application_transfer_from_xml(root: etree._Element) -> ApplicationTransfer:
    """Read a schema-valid application transfer into its typed form."""
    applicant = root.find("t:Applicant", _NS)
    decision = root.find("t:BasicDecision", _NS)
    if applicant is None or decision is None:
        raise ValueError("not a valid application transfer")
    return ApplicationTransfer(
        envelope=read_envelope(root),
        applicant=_person(applicant),
        home_municipality=_text(applicant, "t:HomeMunicipality"),
        household=tuple(
            (_person(m), _text(m, "t:Relationship")) for m in root.iterfind("t:HouseholdMembers/t:Member", _NS)
        ),
        basic_decision_reference=_text(decision, "t:Reference"),
        basic_decision_date=_value(decision, "t:DecisionDate", parse_date),
        period=(_value(decision, "t:Period/t:Start", parse_date), _value(decision, "t:Period/t:End", parse_date)),
        cost_items=tuple(
            CostItem(_text(c, "t:Category"), _value(c, "t:Amount", parse_decimal), _text(c, "t:Description"))
            for c in root.iterfind("t:CostItems/t:CostItem", _NS)
        ),
        urgency=_text(root, "t:Urgency"),
        transfer_requested_at=_value(root, "t:TransferRequest/t:RequestedAt", parse_datetime),
        attachments=tuple(_attachment(a) for a in root.iterfind("t:Attachments/t:Attachment", _NS)),
        preferred_language=_optional(applicant, "t:PreferredLanguage"),
    )


@dataclass(frozen=True)
class SiltaMessage:
    """Any other message type, valid against its schema: the envelope and the document to read from."""

    envelope: Envelope
    message_type: str
    document: bytes

    def text(self, path: str) -> str | None:
        """The text at a local-name path below the root (e.g. `Outcome`, `Decision/Reference`), or None."""
        root = etree.fromstring(self.document)
        steps = "/".join(f"t:{step}" for step in path.split("/"))
        found = root.findtext(steps, namespaces={"t": etree.QName(root).namespace})
        return None if found is None else found.strip()

    def __repr__(self) -> str:
        return f"SiltaMessage({self.envelope!r})"


def silta_message_from_xml(root: etree._Element, message_type: str) -> SiltaMessage:
    """A schema-valid document of any type as a `SiltaMessage`."""
    return SiltaMessage(read_envelope(root), message_type, etree.tostring(root))
