"""The message catalogue: every message type Silta carries, with its rules.

Each type names its schema, who may send it, what kind of party receives it,
where in the document the recipient's municipality is, and its legal basis.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.domain.parties import PartyRole
from broker.domain.routing import RecipientKind


@dataclass(frozen=True)
class MessageType:
    """One message type and the rules that hold for it."""

    name: str
    namespace: str
    root_element: str
    schema_file: str
    schema_version: str
    legal_basis: str
    senders: frozenset[PartyRole]
    recipient_kind: RecipientKind
    municipality_path: str
    """Local-name path from the root to the municipality code that routes the message."""

    @property
    def schema_header(self) -> str:
        """The value of the `silta-schema` Kafka header: namespace and version."""
        return f"{self.namespace}#{self.schema_version}"


APPLICATION_TRANSFER = MessageType(
    name="application-transfer",
    namespace="urn:fi:silta:application-transfer:1",
    root_element="ApplicationTransfer",
    schema_file="application-transfer-1.xsd",
    schema_version="1.0",
    legal_basis="1412/1997 14 c §",
    senders=frozenset({PartyRole.KELA}),
    recipient_kind=RecipientKind.ORGANISER,
    municipality_path="Applicant/HomeMunicipality",
)

CATALOGUE: dict[str, MessageType] = {t.name: t for t in (APPLICATION_TRANSFER,)}


def message_type_for_root(namespace: str | None, local_name: str) -> MessageType | None:
    """The message type whose root element this is, or None."""
    for message_type in CATALOGUE.values():
        if message_type.namespace == namespace and message_type.root_element == local_name:
            return message_type
    return None
