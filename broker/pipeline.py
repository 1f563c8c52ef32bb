"""The pipeline every incoming message goes through, whatever channel brought it.

receive → parse safely → validate (the XSD of the envelope's schema version, identity codes) → authorise the sender
for this type → route (who receives it) → filter for the recipient (statutory
policy) → hand over for storing with its outbox row. Each stage raises a
`Rejection` naming what is wrong; none of them touches a database or Kafka.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from lxml import etree

from broker.audit.disclosure import disclosure_facts
from broker.audit.pseudonym import Pseudonymiser
from broker.crypto.tokens import Caller
from broker.domain import headers as hdr
from broker.domain.accepted import AcceptedMessage, OutboundRecord
from broker.domain.catalogue import CATALOGUE, RECEIPT, MessageType
from broker.domain.clock import Clock, SystemClock
from broker.domain.disclosure import DisclosureFacts
from broker.domain.envelope import ENVELOPE_NAMESPACE, Envelope
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.parties import KELA, PartyRole, role_of
from broker.domain.routing import MunicipalityTable, RoutingError
from broker.domain.topics import destination_of
from broker.policy.model import Policy, PolicyError, PolicyKey
from broker.policy.statutory_filter import Allowlist, apply_policy, compile_allowlist
from broker.xml.attachments import manifest
from broker.xml.envelope_reader import read_envelope, set_recipient
from broker.xml.safe_parse import ParseLimits, parse_untrusted
from broker.xml.validation import SchemaRegistry, case_id_is_identity_code
from broker.xml.values import parse_date, read_value


@dataclass(frozen=True)
class Filtered:
    """The filter stage's result: the body to deliver and what the logs need to know of it."""

    body: bytes
    removed: dict[str, int]
    policy_version: str
    disclosure: DisclosureFacts


@dataclass(frozen=True)
class MessagePipeline:
    """The stages, built once at start-up by the composition root."""

    schemas: SchemaRegistry
    policies: dict[PolicyKey, Policy]
    """By (message type, schema version): each live version has its own policy."""
    municipalities: MunicipalityTable
    limits: ParseLimits
    pseudonyms: Pseudonymiser
    clock: Clock = field(default_factory=SystemClock)
    _allowlists: dict[tuple[str, str, PartyRole], Allowlist] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for (name, number), policy in self.policies.items():
            message_type = CATALOGUE.get(name)
            if message_type is None:
                raise PolicyError(f"a policy names message type {name}, which the catalogue does not have")
            version = message_type.version(number)
            if version is None:
                raise PolicyError(f"a policy is for {name} {number}, a schema version the catalogue does not list")
            known = self.schemas.paths(message_type, version)
            unknown = sorted(rule.path for rules in policy.rules.values() for rule in rules if rule.path not in known)
            if unknown:
                raise PolicyError(
                    f"the {name} {number} policy names fields its schema does not have: {', '.join(unknown)}"
                )
            namespaces = frozenset({ENVELOPE_NAMESPACE, message_type.namespace})
            for role in PartyRole:
                self._allowlists[name, number, role] = compile_allowlist(policy, role, namespaces)

    def accept(self, data: bytes, caller: Caller) -> AcceptedMessage:
        """Run every stage on one document from `caller`; the result is ready to store."""
        root = parse_untrusted(data, self.limits)
        message_type = self.schemas.message_type_of(root)
        self.schemas.validate(root, message_type)
        envelope = read_envelope(root)
        authorise(caller, envelope, message_type)
        check_envelope(envelope, message_type)
        refuse_technical_receipt(root, message_type)
        recipient = self.route(root, envelope, message_type)
        return self._deliverable(data, root, envelope, message_type, recipient)

    def accept_from_silta(self, data: bytes, recipient: str) -> AcceptedMessage:
        """A document Silta builds itself on someone's behalf (a guardian's late attachment) for `recipient`.

        Every stage runs except authorising a caller: Silta is the sender, and the filter still applies.
        """
        root = parse_untrusted(data, self.limits)
        message_type = self.schemas.message_type_of(root)
        self.schemas.validate(root, message_type)
        envelope = read_envelope(root)
        check_envelope(envelope, message_type)
        return self._deliverable(data, root, envelope, message_type, recipient)

    def guardian_view(self, body: bytes, message_type_name: str) -> tuple[etree._Element, list[str]]:
        """A stored message as a guardian may see it (442/1999 29 §), and the field categories it shows."""
        root = parse_untrusted(body, self.limits)
        version = self.schemas.version_of(root, CATALOGUE[message_type_name]).number
        allowlist = self._allowlists[message_type_name, version, PartyRole.GUARDIAN]
        result = apply_policy(root, allowlist, in_place=True)
        rules = self.policies[message_type_name, version].rules.get(PartyRole.GUARDIAN, ())
        categories = sorted({rule.path.split("/")[0] for rule in rules if rule.path in result.disclosed})
        return result.document, categories

    def _deliverable(
        self, data: bytes, root: etree._Element, envelope: Envelope, message_type: MessageType, recipient: str
    ) -> AcceptedMessage:
        set_recipient(root, recipient)
        declared = manifest(root)
        filtered = self.filter_for(root, recipient, message_type, envelope.schema_version)
        return AcceptedMessage(
            message_id=envelope.message_id,
            message_type=message_type.name,
            schema_version=envelope.schema_version,
            sender=envelope.sender,
            recipient=recipient,
            case_id=envelope.case_id,
            correlation_id=envelope.correlation_id,
            content_sha256=hashlib.sha256(data).hexdigest(),
            policy_version=filtered.policy_version,
            removed_fields=filtered.removed,
            disclosure=filtered.disclosure,
            record=self._record(envelope, message_type, recipient, filtered),
            accepted_at=self.clock.now(),
            due_date=_due_date(root, message_type),
            attachments=declared,
            delivered_attachments=tuple(ref.attachment_id for ref in manifest(root)),
        )

    def route(self, root: etree._Element, envelope: Envelope, message_type: MessageType) -> str:
        """The recipient: Kela for an organiser's message; for Kela's, the client's organiser or municipality."""
        if role_of(envelope.sender) is not PartyRole.KELA:
            recipient = KELA
        elif message_type.municipality_path is None:
            recipient = _named_recipient(envelope, message_type)
        else:
            recipient = self._recipient_by_municipality(root, message_type)
        if envelope.recipient is not None and envelope.recipient != recipient:
            raise Rejection(
                ErrorCode.RECIPIENT_MISMATCH,
                f"the envelope names {envelope.recipient}, but the message goes to {recipient}",
                [ErrorItem(f"/{message_type.root_element}/Envelope/Recipient", f"expected {recipient}")],
            )
        return recipient

    def _recipient_by_municipality(self, root: etree._Element, message_type: MessageType) -> str:
        path = message_type.municipality_path or ""
        steps = "/".join(f"t:{step}" for step in path.split("/"))
        node = root.find(steps, {"t": message_type.namespace})
        code = "" if node is None or node.text is None else node.text.strip()
        try:
            return self.municipalities.recipient(code, message_type.direction.recipient_kind)
        except RoutingError as error:
            raise Rejection(
                ErrorCode.UNROUTABLE,
                f"no recipient for municipality {code}",
                [ErrorItem(f"/{message_type.root_element}/{path}", error.reason)],
            ) from None

    def filter_for(self, root: etree._Element, recipient: str, message_type: MessageType, version: str) -> Filtered:
        """The document (of schema `version`) as `recipient` may receive it, what was removed, what it discloses."""
        role = role_of(recipient)
        policy = self.policies.get((message_type.name, version))
        if role is None or policy is None:
            raise Rejection(
                ErrorCode.FILTERED_MESSAGE_INVALID, f"no disclosure policy for {message_type.name} {version}"
            )
        # The pipeline owns this tree and never reads it again: filter it in place.
        result = apply_policy(root, self._allowlists[message_type.name, version, role], in_place=True)
        if not self.schemas.is_valid(result.document, message_type):
            raise Rejection(
                ErrorCode.FILTERED_MESSAGE_INVALID,
                f"the {role} policy for {message_type.name} leaves an invalid message",
            )
        body = etree.tostring(result.document, xml_declaration=True, encoding="UTF-8")
        facts = disclosure_facts(result.document, result.disclosed, policy, role, self.pseudonyms)
        return Filtered(body, dict(result.removed), policy.version, facts)

    def _record(
        self, envelope: Envelope, message_type: MessageType, recipient: str, filtered: Filtered
    ) -> OutboundRecord:
        """The record: key = case id, identifying headers, the filtered body (sealed by the relay when it publishes).

        Free text that reaches the recipient is flagged in `silta-free-text` (the paths, never the text).
        """
        headers = {
            hdr.MESSAGE_ID: envelope.message_id,
            hdr.MESSAGE_TYPE: message_type.name,
            hdr.SCHEMA: message_type.schema_header_for(envelope.schema_version),
            hdr.SENDER: envelope.sender,
            hdr.RECIPIENT: recipient,
        }
        if envelope.correlation_id:
            headers[hdr.CORRELATION_ID] = envelope.correlation_id
        if filtered.disclosure.free_text:
            headers[hdr.FREE_TEXT] = ",".join(filtered.disclosure.free_text)
        return OutboundRecord(destination_of(recipient), envelope.case_id, headers, filtered.body)


def authorise(caller: Caller, envelope: Envelope, message_type: MessageType) -> None:
    """The caller must be the envelope's sender, and that sender may send this type."""
    if envelope.sender != caller.party:
        raise Rejection(
            ErrorCode.SENDER_MISMATCH,
            f"the envelope names sender {envelope.sender}, but the caller is {caller.party}",
            [ErrorItem(f"/{message_type.root_element}/Envelope/Sender", "not the caller")],
        )
    role = role_of(envelope.sender)
    if role is None or role not in message_type.senders:
        raise Rejection(
            ErrorCode.SENDER_NOT_ALLOWED,
            f"{envelope.sender} may not send {message_type.name}",
            [ErrorItem(f"/{message_type.root_element}/Envelope/Sender", f"{message_type.direction} message")],
        )
    if case_id_is_identity_code(envelope.case_id):
        raise Rejection(
            ErrorCode.CASE_ID_IS_IDENTITY_CODE,
            "the case id becomes the Kafka record key and must not be a personal identity code",
            [ErrorItem(f"/{message_type.root_element}/Envelope/CaseId", "is an identity code")],
        )


def check_envelope(envelope: Envelope, message_type: MessageType) -> None:
    """A message about a person names its data subject; an answer names what it answers."""
    where = f"/{message_type.root_element}/Envelope"
    if message_type.about_a_person and envelope.data_subject is None:
        raise Rejection(
            ErrorCode.DATA_SUBJECT_MISSING,
            f"a {message_type.name} is about a person: the envelope must name the data subject",
            [ErrorItem(f"{where}/DataSubject", "required for this message type")],
        )
    if message_type.answers is not None and envelope.correlation_id is None:
        raise Rejection(
            ErrorCode.CORRELATION_MISSING,
            f"a {message_type.name} answers another message: the envelope must name it in CorrelationId",
            [ErrorItem(f"{where}/CorrelationId", "required for this message type")],
        )


def _named_recipient(envelope: Envelope, message_type: MessageType) -> str:
    """Kela's receipts name their recipient: the organiser or municipality that sent what they receipt."""
    if envelope.recipient is None or role_of(envelope.recipient) not in {PartyRole.ORGANISER, PartyRole.MUNICIPALITY}:
        raise Rejection(
            ErrorCode.UNROUTABLE,
            f"a {message_type.name} from Kela must name the organiser or municipality it goes to",
            [ErrorItem(f"/{message_type.root_element}/Envelope/Recipient", "an organiser or municipality id")],
        )
    return envelope.recipient


def _due_date(root: etree._Element, message_type: MessageType) -> dt.date | None:
    """The date an answer is due, for types that carry one (schema-valid, so the text is a date)."""
    if message_type.due_date_path is None:
        return None
    steps = "/".join(f"t:{step}" for step in message_type.due_date_path.split("/"))
    node = root.find(steps, namespaces={"t": message_type.namespace})
    return None if node is None else read_value(node, parse_date)


def refuse_technical_receipt(root: etree._Element, message_type: MessageType) -> None:
    """Only Silta gives technical receipts; a party's receipt is a business receipt."""
    if message_type is RECEIPT and root.findtext(f"{{{RECEIPT.namespace}}}Kind") == "technical":
        raise Rejection(
            ErrorCode.SENDER_NOT_ALLOWED,
            "only Silta sends technical receipts; send a business receipt",
            [ErrorItem("/Receipt/Kind", "technical receipts come from Silta")],
        )
