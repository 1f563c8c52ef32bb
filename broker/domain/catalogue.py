"""The message catalogue: every message type Silta carries, with its rules.

Each type names its schema versions, its direction (who may send it and what
kind of party receives it), where in the document the client's municipality is
(which routes Kela's messages), what it must answer, and its legal basis. The
statutory policy of each type and version lives in `policies/*.toml`.

Versions (see docs/schema-versions.md): a type keeps one XML namespace for its
whole life, and the envelope's `SchemaVersion` names the version a document
follows. Each live version has its own XSD, `schemas/<type>-<major>.xsd` (or
`<type>-<major>.<minor>.xsd` for a minor version), and its own policy. A
version is either compatible with the one before it (every document of the
previous version is also valid under it, which `silta schemas check` proves on
the stored examples) or declared `breaking`. A version nobody may send any more
is removed from `versions`; a document naming a version not listed is refused
with `unsupported-schema-version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from broker.domain.deadlines import Awaited, Deadline
from broker.domain.lifecycle import Event
from broker.domain.parties import PartyRole
from broker.domain.routing import RecipientKind


class Direction(StrEnum):
    """Who sends a message type to whom."""

    KELA_TO_ORGANISER = "kela-to-organiser"
    KELA_TO_MUNICIPALITY = "kela-to-municipality"
    ORGANISER_TO_KELA = "organiser-to-kela"
    BOTH_WAYS = "both-ways"

    @property
    def senders(self) -> frozenset[PartyRole]:
        """The roles that may send a message in this direction."""
        if self is Direction.ORGANISER_TO_KELA:
            return frozenset({PartyRole.ORGANISER})
        if self is Direction.BOTH_WAYS:
            return frozenset({PartyRole.KELA, PartyRole.ORGANISER})
        return frozenset({PartyRole.KELA})

    @property
    def recipient_kind(self) -> RecipientKind:
        """What kind of party Kela's messages of this direction go to."""
        return RecipientKind.MUNICIPALITY if self is Direction.KELA_TO_MUNICIPALITY else RecipientKind.ORGANISER

    @property
    def recipient_roles(self) -> frozenset[PartyRole]:
        """Every role that may receive a message in this direction."""
        if self is Direction.KELA_TO_MUNICIPALITY:
            return frozenset({PartyRole.MUNICIPALITY})
        if self is Direction.KELA_TO_ORGANISER:
            return frozenset({PartyRole.ORGANISER})
        if self is Direction.ORGANISER_TO_KELA:
            return frozenset({PartyRole.KELA})
        return frozenset({PartyRole.KELA, PartyRole.ORGANISER})


@dataclass(frozen=True)
class SchemaVersion:
    """One live version of a message type's schema."""

    number: str
    """As written in the envelope's `SchemaVersion`: `major.minor`."""
    breaking: bool = False
    """Declared incompatible with the version before it: its documents need not be valid under this one."""
    changes: str = ""
    """What the version changed, for the gate's report and reviewers."""

    @property
    def file_suffix(self) -> str:
        """`2` for 2.0, `2.1` for 2.1: the part of the XSD's file name after the type."""
        major, _, minor = self.number.partition(".")
        return major if minor in ("", "0") else self.number


_FIRST = (SchemaVersion("1.0"),)


@dataclass(frozen=True)
class MessageType:
    """One message type and the rules that hold for it."""

    name: str
    root_element: str
    legal_basis: str
    direction: Direction
    municipality_path: str | None = "Client/HomeMunicipality"
    """Local-name path from the root to the client's municipality; None if the type names no client."""
    answers: frozenset[str] | None = None
    """The types this one answers through the envelope's CorrelationId; empty = any type; None = answers nothing."""
    due_date_path: str | None = None
    """Local-name path to the date an answer is due, for types that expect one."""
    versions: tuple[SchemaVersion, ...] = _FIRST
    """The live schema versions, oldest first; the last is the current one, which Silta writes itself."""
    answer_event: Event | None = None
    """The step this type causes on the message it answers (a receipt's depends on its kind)."""
    follows_up: bool = False
    """Sent by the requester about its own request (a cancellation, a reminder), not back to it."""
    opens_request: bool = False
    """Expects an answer by a due date: a request for further information (18 a §, 18 g §)."""
    deadline: Deadline | None = None
    """What it waits for and by when (see `broker.domain.deadlines`); None: a business receipt within the
    receipt timeout, or nothing at all for a receipt."""

    @property
    def closes_request(self) -> bool:
        """Whether it ends the request it answers (a response or a cancellation)."""
        return self.answer_event in (Event.ANSWERED, Event.CANCELLED)

    @property
    def namespace(self) -> str:
        """The type's XML namespace: the same for every version (the `:1` is part of the name, not the version)."""
        return f"urn:fi:silta:{self.name}:1"

    @property
    def schema_version(self) -> str:
        """The current (newest) version: the one Silta writes its own documents in."""
        return self.versions[-1].number

    @property
    def supported_versions(self) -> tuple[str, ...]:
        """Every version a sender may use, oldest first."""
        return tuple(version.number for version in self.versions)

    def version(self, number: str) -> SchemaVersion | None:
        """The live version with this number, or None."""
        return next((version for version in self.versions if version.number == number), None)

    def schema_file(self, version: SchemaVersion) -> str:
        """The XSD of a version under `schemas/`."""
        return f"{self.name}-{version.file_suffix}.xsd"

    @property
    def senders(self) -> frozenset[PartyRole]:
        """The roles that may send this type."""
        return self.direction.senders

    @property
    def about_a_person(self) -> bool:
        """Whether the envelope must name the data subject (every type but receipts)."""
        return self.municipality_path is not None

    @property
    def schema_header(self) -> str:
        """The `silta-schema` Kafka header of the current version (for Silta's own documents)."""
        return self.schema_header_for(self.schema_version)

    def schema_header_for(self, version: str) -> str:
        """The value of the `silta-schema` Kafka header: namespace and the document's version."""
        return f"{self.namespace}#{version}"


_REQUEST = frozenset({"information-request"})
_DECISION_DELIVERED = Deadline(
    Awaited.DELIVERY,
    frozenset({"receipt"}),
    "agreed: a decision notice is information, nothing to answer (18 h §; 18 b § 3 mom); only Silta's technical"
    " receipt (delivery) is expected, within the receipt timeout",
)

APPLICATION_TRANSFER = MessageType(
    "application-transfer",
    "ApplicationTransfer",
    "1412/1997 14 c §",
    Direction.KELA_TO_ORGANISER,
    municipality_path="Applicant/HomeMunicipality",
    deadline=Deadline(
        Awaited.BUSINESS_RECEIPT,
        frozenset({"receipt", "transfer-return"}),
        "agreed: 14 c § has Kela transfer without delay but sets the organiser no time; the organiser's business"
        " receipt (received into case) or a transfer return within 3 working days",
        working_days=3,
        reminder_lead_days=1,
    ),
    versions=(
        SchemaVersion("1.0"),
        SchemaVersion("2.0", changes="optional Applicant/PreferredLanguage (423/2003 10 §; 1086/2003 4 §)"),
    ),
)

_TYPES = (
    APPLICATION_TRANSFER,
    MessageType(
        "basic-decision-notice",
        "BasicDecisionNotice",
        "1412/1997 18 h §",
        Direction.KELA_TO_ORGANISER,
        deadline=_DECISION_DELIVERED,
    ),
    MessageType(
        "reduction-notice",
        "ReductionNotice",
        "1412/1997 10 §; 18 h §",
        Direction.KELA_TO_ORGANISER,
        deadline=_DECISION_DELIVERED,
    ),
    MessageType(
        "social-care-need-notice",
        "SocialCareNeedNotice",
        "1301/2014 35 §; 1412/1997 18 h §",
        Direction.KELA_TO_ORGANISER,
    ),
    MessageType("unemployment-notice", "UnemploymentNotice", "1412/1997 18 h §", Direction.KELA_TO_ORGANISER),
    MessageType("immigrant-notice", "ImmigrantNotice", "1412/1997 18 h §; 681/2023", Direction.KELA_TO_MUNICIPALITY),
    MessageType(
        "decision-notice",
        "DecisionNotice",
        "1412/1997 18 b § 3 mom",
        Direction.ORGANISER_TO_KELA,
        deadline=_DECISION_DELIVERED,
    ),
    MessageType("statement", "Statement", "1412/1997 15 §", Direction.ORGANISER_TO_KELA),
    MessageType("reduction-information", "ReductionInformation", "1412/1997 18 b §; 10 §", Direction.ORGANISER_TO_KELA),
    MessageType(
        "transfer-return",
        "TransferReturn",
        "1412/1997 14 c §; 27 §",
        Direction.ORGANISER_TO_KELA,
        answers=frozenset({"application-transfer"}),
        answer_event=Event.RETURNED,
    ),
    MessageType(
        "information-request",
        "InformationRequest",
        "1412/1997 18 a §; 18 g §; 18 h §",
        Direction.BOTH_WAYS,
        due_date_path="DueDate",
        opens_request=True,
        deadline=Deadline(
            Awaited.ANSWER,
            frozenset({"information-response"}),
            "18 a §; 18 g §: the due date the requester sets in the request (a cancellation also ends it);"
            " agreed default 7 working days, the completion time of 14 b §, for a request without one",
            working_days=7,
            from_due_date=True,
            reminder_lead_days=2,
        ),
    ),
    MessageType(
        "information-response",
        "InformationResponse",
        "1412/1997 18 a §; 18 g §",
        Direction.BOTH_WAYS,
        answers=_REQUEST,
        answer_event=Event.ANSWERED,
    ),
    MessageType(
        "information-request-cancellation",
        "InformationRequestCancellation",
        "1412/1997 18 a §; 18 g §",
        Direction.BOTH_WAYS,
        answers=_REQUEST,
        answer_event=Event.CANCELLED,
        follows_up=True,
    ),
    MessageType(
        "information-request-reminder",
        "InformationRequestReminder",
        "1412/1997 18 a §; 18 g §",
        Direction.BOTH_WAYS,
        answers=_REQUEST,
        due_date_path="NewDueDate",
        answer_event=Event.REMINDED,
        follows_up=True,
    ),
    MessageType("late-attachment", "LateAttachment", "1412/1997 14 c §; 18 h §", Direction.BOTH_WAYS),
    MessageType("status-update", "StatusUpdate", "1412/1997 18 h §; 18 b §", Direction.BOTH_WAYS),
    MessageType(
        "receipt",
        "Receipt",
        "703/2023 39 §",
        Direction.BOTH_WAYS,
        municipality_path=None,
        answers=frozenset(),
        versions=(
            SchemaVersion("1.0"),
            SchemaVersion("1.1", changes="Outcome `reminder-due` and optional DueDate, for Silta's deadline notices"),
        ),
    ),
)

CATALOGUE: dict[str, MessageType] = {t.name: t for t in _TYPES}
RECEIPT = CATALOGUE["receipt"]
INFORMATION_REQUEST = CATALOGUE["information-request"]
CLOSING_TYPES = frozenset(t.name for t in _TYPES if t.closes_request)
"""The types that end a request: at most one of them per request (a partial unique index keeps it so)."""


def message_type_for_root(namespace: str | None, local_name: str) -> MessageType | None:
    """The message type whose root element this is, or None."""
    for message_type in CATALOGUE.values():
        if message_type.namespace == namespace and message_type.root_element == local_name:
            return message_type
    return None
