"""Hypothesis strategies for whole schema-valid documents, built from the XSDs' component model.

`organiser_documents(message_type)` walks the type's schema with xmlschema: every
optional element present or absent, repeated elements from their minimum up to a
few and at their maximum, every simple type at its edges (tests/support/xsd_values.py),
and elements of other namespaces in `Extensions` (the schema's `xs:any`). The
envelope is the organiser's own, so that documents get past the sender checks to
the real ones: sender `hva-08`, the root's message type, the data subject and
the correlation id whenever the type needs them, and no recipient but Kela.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

import xmlschema
from hypothesis import strategies as st
from lxml import etree
from xmlschema.validators import XsdAnyElement, XsdGroup

from broker.domain.catalogue import CATALOGUE, Direction, MessageType
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.settings import PROJECT_ROOT
from tests.support.xsd_values import XML_CHARACTERS, simple_text

SCHEMAS = PROJECT_ROOT / "schemas"
ORGANISER_TYPES = tuple(
    t for t in CATALOGUE.values() if t.direction in (Direction.ORGANISER_TO_KELA, Direction.BOTH_WAYS)
)
EXTENSION_NAMESPACES = ("urn:example:organiser:ext", ENVELOPE_NAMESPACE)
EXTENSION_NAMES = ("Note", "Sender", "MessageId", "CaseId", "LocalCode", "Attachment")
_FEW = 2
Texts = Mapping[str, st.SearchStrategy[str]]
# ruff: noqa: ANN401  xmlschema's components are untyped


def env(name: str) -> str:
    """The qualified name of an envelope element."""
    return f"{{{ENVELOPE_NAMESPACE}}}{name}"


@functools.cache
def schema_of(message_type: MessageType) -> Any:
    """The XSD of the type's current version as xmlschema's component model (loaded once)."""
    current = message_type.versions[-1]
    return xmlschema.XMLSchema10(str(SCHEMAS / message_type.schema_file(current)), allow="sandbox")


def organiser_documents(message_type: MessageType, sender: str = "hva-08") -> st.SearchStrategy[bytes]:
    """Schema-valid documents of `message_type` from the organiser `sender`, serialised as UTF-8."""
    texts = {
        env("MessageType"): st.just(message_type.name),
        env("Sender"): st.just(sender),
        env("Recipient"): st.just("kela"),
        env("SchemaVersion"): st.just(message_type.schema_version),
    }
    required = {env("DataSubject")} if message_type.about_a_person else set()
    if message_type.answers is not None:
        required.add(env("CorrelationId"))
    root = schema_of(message_type).elements[message_type.root_element]
    top = {None: message_type.namespace, "env": ENVELOPE_NAMESPACE}
    return Walker(texts, frozenset(required)).element(root).map(lambda tree: _serialise(tree, top))


def _serialise(tree: etree._Element, top: dict[str | None, str]) -> bytes:
    """The document with its namespaces declared once, on the root."""
    etree.cleanup_namespaces(tree, top_nsmap=top)  # type: ignore[arg-type]  # lxml-stubs: None prefix
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def any_organiser_document(sender: str = "hva-08") -> st.SearchStrategy[bytes]:
    """A document of any type an organiser sends."""
    return st.one_of(*[organiser_documents(t, sender) for t in ORGANISER_TYPES])


class Walker:
    """Turns element declarations into strategies; `texts` overrides the text of named elements."""

    def __init__(self, texts: Texts, required: frozenset[str]) -> None:
        self._texts = texts
        self._required = required

    def element(self, declaration: Any) -> st.SearchStrategy[etree._Element]:
        """One element of the declaration: its text, attributes and children."""
        xsd_type = declaration.type
        text: st.SearchStrategy[str | None] = st.none()
        children: st.SearchStrategy[list[etree._Element]] = st.just([])
        if declaration.name in self._texts:
            text = self._texts[declaration.name]
        elif xsd_type.is_simple():
            text = simple_text(xsd_type)
        elif xsd_type.has_simple_content():
            text = simple_text(xsd_type.content)
        else:
            children = self.group(xsd_type.content)
        attributes = st.just({}) if xsd_type.is_simple() else self.attributes(xsd_type)
        return st.tuples(text, attributes, children).map(lambda t: _build(declaration.name, *t))

    def attributes(self, xsd_type: Any) -> st.SearchStrategy[dict[str, str]]:
        """Required attributes always, optional ones present or absent."""
        drawn = {}
        for name, attribute in xsd_type.attributes.items():
            value = simple_text(attribute.type)
            drawn[name] = value if attribute.use == "required" else st.none() | value
        return st.fixed_dictionaries(drawn).map(lambda d: {k: v for k, v in d.items() if v is not None})

    def group(self, group: Any) -> st.SearchStrategy[list[etree._Element]]:
        """A model group's elements: a sequence in order, one branch of a choice."""
        particles = [self.particle(p) for p in group]
        if group.model == "choice":
            return st.one_of(*particles)
        return st.tuples(*particles).map(lambda parts: [e for part in parts for e in part])

    def particle(self, particle: Any) -> st.SearchStrategy[list[etree._Element]]:
        """Between min and max occurrences of an element, group or wildcard: few, or exactly the maximum."""
        low = max(particle.min_occurs, 1 if particle.name in self._required else 0)
        high = particle.max_occurs
        if isinstance(particle, XsdGroup):
            one: st.SearchStrategy[Any] = self.group(particle)
        elif isinstance(particle, XsdAnyElement):
            one = extension_elements().map(lambda e: [e])
        else:
            one = self.element(particle).map(lambda e: [e])
        few = st.lists(one, min_size=low, max_size=low + _FEW if high is None else min(high, low + _FEW))
        if high is not None and high > low + _FEW:  # the maximum too: one drawn occurrence, copied
            few = st.one_of(few, few, one.map(lambda part: [copy.deepcopy(part) for _ in range(high)]))
        return few.map(lambda parts: [e for part in parts for e in part])


def extension_elements() -> st.SearchStrategy[etree._Element]:
    """What `xs:any namespace="##other" processContents="lax"` lets through: undeclared elements of other namespaces."""
    names = st.tuples(st.sampled_from(EXTENSION_NAMESPACES), st.sampled_from(EXTENSION_NAMES))
    texts = st.none() | st.text(XML_CHARACTERS, max_size=30)
    nested = st.lists(st.tuples(st.sampled_from(EXTENSION_NAMES), texts), max_size=2)
    return st.tuples(names, texts, nested).map(_extension)


def _extension(drawn: tuple[tuple[str, str], str | None, list[tuple[str, str | None]]]) -> etree._Element:
    (namespace, name), text, nested = drawn
    element = etree.Element(f"{{{namespace}}}{name}")
    element.text = text
    for child_name, child_text in nested:
        etree.SubElement(element, f"{{{namespace}}}{child_name}").text = child_text
    return element


def _build(name: str, text: str | None, attributes: dict[str, str], children: list[etree._Element]) -> etree._Element:
    element = etree.Element(name, attributes)
    element.text = text
    element.extend(children)
    return element
