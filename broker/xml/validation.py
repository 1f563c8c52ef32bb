"""Schema validation: libxml2 on the hot path, xmlschema for precise error reports.

libxml2 validates a typical message in well under a millisecond; xmlschema is
about 35 times slower but reports each error with its path and reason, so it
runs only for the rare document libxml2 has already refused. Both read the
same XSD 1.0 files, loaded once from the project's `schemas/` folder.

Every live version of a type has its own XSD; all of a type's versions share
its namespace, so the envelope's `SchemaVersion` picks the XSD. It is read
before validation: a version the catalogue does not list is refused with
`unsupported-schema-version`, naming the versions there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from broker.domain.catalogue import CATALOGUE, MessageType, SchemaVersion, message_type_for_root
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.identity_code import identity_code_problem, is_valid_identity_code, scrub_identity_codes
from broker.xml.paths import element_path

IDENTITY_CODE_ELEMENTS = frozenset({"PersonalIdentityCode", "DataSubject"})
_MAX_REPORTED_ERRORS = 50
_VERSION_PATH = f"{{{ENVELOPE_NAMESPACE}}}Envelope/{{{ENVELOPE_NAMESPACE}}}SchemaVersion"
_Key = tuple[str, str]
"""(message type, schema version)."""


class SchemaRegistry:
    """The compiled schema of every live version of every message type in the catalogue (or of `types`)."""

    def __init__(self, schema_dir: Path, types: Iterable[MessageType] | None = None) -> None:
        self._dir = schema_dir.resolve()
        self._fast: dict[_Key, etree.XMLSchema] = {}
        self._precise: dict[_Key, xmlschema.XMLSchema10] = {}
        self._identity_tags: dict[str, tuple[str, ...]] = {}
        for message_type in CATALOGUE.values() if types is None else types:
            for version in message_type.versions:
                path = schema_dir / message_type.schema_file(version)
                document = etree.parse(str(path), etree.XMLParser(no_network=True))
                self._fast[message_type.name, version.number] = etree.XMLSchema(document)
            self._identity_tags[message_type.name] = tuple(
                f"{{{namespace}}}{name}"
                for namespace in (ENVELOPE_NAMESPACE, message_type.namespace)
                for name in IDENTITY_CODE_ELEMENTS
            )

    def message_type_of(self, root: etree._Element) -> MessageType:
        """The catalogue entry for a document's root element, or an `unknown-message-type` rejection."""
        qname = etree.QName(root)
        message_type = message_type_for_root(qname.namespace, qname.localname)
        if message_type is None:
            raise Rejection(
                ErrorCode.UNKNOWN_MESSAGE_TYPE,
                "the root element names no message type Silta carries",
                [ErrorItem(element_path(root), f"unknown root element {{{qname.namespace}}}{qname.localname}")],
            )
        return message_type

    def version_of(self, root: etree._Element, message_type: MessageType) -> SchemaVersion:
        """The live version the envelope names, or an `unsupported-schema-version` rejection.

        A document with no `SchemaVersion` where the envelope has it is checked against the current
        version, whose schema then says what is missing.
        """
        node = root.find(_VERSION_PATH)
        if node is None:
            return message_type.versions[-1]
        number = (node.text or "").strip()
        version = message_type.version(number)
        if version is None:
            supported = ", ".join(message_type.supported_versions)
            named = scrub_identity_codes(number[:16])
            raise Rejection(
                ErrorCode.UNSUPPORTED_SCHEMA_VERSION,
                f"{message_type.name} has no schema version {named!r}; the supported versions are {supported}",
                [ErrorItem(element_path(node), f"supported versions: {supported}")],
            )
        return version

    def validate(self, root: etree._Element, message_type: MessageType) -> SchemaVersion:
        """Check the document against its version's XSD and its identity codes; the version, or a `Rejection`."""
        version = self.version_of(root, message_type)
        if not self._fast[message_type.name, version.number].validate(root):
            raise Rejection(
                ErrorCode.SCHEMA_INVALID,
                f"the document is not a valid {message_type.name} {version.number}",
                self._precise_errors(root, message_type, version),
            )
        _check_envelope_type(root, message_type)
        _check_identity_codes(root, self._identity_tags[message_type.name])
        return version

    def is_valid(self, root: etree._Element, message_type: MessageType) -> bool:
        """True if the document matches the XSD of the version it names (used after filtering)."""
        try:
            version = self.version_of(root, message_type)
        except Rejection:
            return False
        return bool(self._fast[message_type.name, version.number].validate(root))

    def paths(self, message_type: MessageType, version: SchemaVersion) -> frozenset[str]:
        """Every element and attribute path a version's schema defines, from below the root."""
        root = self._precise_schema(message_type, version).elements[message_type.root_element]
        found: set[str] = set()
        _collect_paths(root, "", found)
        return frozenset(found)

    def _precise_schema(self, message_type: MessageType, version: SchemaVersion) -> xmlschema.XMLSchema10:
        key = (message_type.name, version.number)
        schema = self._precise.get(key)
        if schema is None:
            schema = xmlschema.XMLSchema10(str(self._dir / message_type.schema_file(version)), allow="sandbox")
            self._precise[key] = schema
        return schema

    def _precise_errors(
        self, root: etree._Element, message_type: MessageType, version: SchemaVersion
    ) -> list[ErrorItem]:
        schema = self._precise_schema(message_type, version)
        items = []
        for error in schema.iter_errors(xmlschema.XMLResource(root, allow="none")):
            reason = scrub_identity_codes(error.reason or str(error.message))
            items.append(ErrorItem(error.path or "/", reason))
            if len(items) >= _MAX_REPORTED_ERRORS:
                break
        return items or [ErrorItem("/", "rejected by the schema")]


def _collect_paths(element: Any, path: str, found: set[str]) -> None:  # noqa: ANN401  xmlschema is untyped
    for name in element.attributes or {}:
        found.add(f"{path}/@{name}" if path else f"@{name}")
    for child in element.iterchildren():
        name = getattr(child, "local_name", None)
        if name is None:  # a wildcard (xs:any): no path a policy may name
            continue
        child_path = f"{path}/{name}" if path else name
        if child_path not in found:
            found.add(child_path)
            _collect_paths(child, child_path, found)


def _check_envelope_type(root: etree._Element, message_type: MessageType) -> None:
    for node in root.iter("{urn:fi:silta:envelope:1}MessageType"):
        if (node.text or "").strip() != message_type.name:
            raise Rejection(
                ErrorCode.SCHEMA_INVALID,
                "the envelope's message type does not match the root element",
                [ErrorItem(element_path(node), f"expected {message_type.name}")],
            )


def _check_identity_codes(root: etree._Element, tags: tuple[str, ...]) -> None:
    errors = []
    for node in root.iter(*tags):
        problem = identity_code_problem((node.text or "").strip())
        if problem is not None:
            errors.append(ErrorItem(element_path(node), problem.reason))
    if errors:
        raise Rejection(ErrorCode.IDENTITY_CODE_INVALID, "a personal identity code is not valid", errors)


def case_id_is_identity_code(case_id: str) -> bool:
    """True if a case id is a personal identity code (it would leak into Kafka keys)."""
    return is_valid_identity_code(case_id)
