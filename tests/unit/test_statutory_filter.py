"""The statutory filter: default deny, and what it removed is reported as paths and counts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.parties import PartyRole
from broker.policy.model import PolicyError, parse_policy
from broker.policy.statutory_filter import apply_policy, compile_allowlist
from broker.settings import Settings
from broker.xml.paths import local_name
from devinfra.samples import application_transfer, with_extension
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KELA

PIPELINE = build_pipeline(Settings())
POLICY = PIPELINE.policies["application-transfer", "1.0"]
NAMESPACES = frozenset({ENVELOPE_NAMESPACE, "urn:fi:silta:application-transfer:1"})


def _paths(root: etree._Element) -> set[str]:
    """Every element and attribute path in a document, relative to the root."""
    found: set[str] = set()

    def walk(node: etree._Element, path: str) -> None:
        for name in node.attrib:
            found.add(f"{path}/@{etree.QName(name).localname}")
        for child in node:
            child_path = f"{path}/{local_name(child)}" if path else local_name(child)
            found.add(child_path)
            walk(child, child_path)

    walk(root, "")
    return found


def test_organiser_receives_every_listed_field_of_the_example() -> None:
    """1412/1997 14 c §: the example holds only what the organiser may have, so nothing is removed."""
    accepted = PIPELINE.accept(application_transfer(), KELA)
    assert accepted.removed_fields == {}


def test_sender_extensions_never_reach_the_organiser() -> None:
    """Elements a sender adds in its own namespace are removed and reported by path, never by value."""
    document = with_extension(application_transfer(), '<k:Notes xmlns:k="urn:kela:internal">010594Y9032</k:Notes>')
    accepted = PIPELINE.accept(document, KELA)
    assert b"urn:kela:internal" not in accepted.record.value
    assert b"Extensions" not in accepted.record.value
    assert accepted.removed_fields == {"Extensions": 1}


def test_a_role_without_rules_receives_nothing_but_the_root() -> None:
    """Default deny: Kela has no rules as a recipient of its own transfer, so every field is removed."""
    root = etree.fromstring(application_transfer())
    result = apply_policy(root, compile_allowlist(POLICY, PartyRole.KELA, NAMESPACES))
    assert len(result.document) == 0
    assert result.removed["Applicant"] == 1


def test_the_input_document_is_not_changed() -> None:
    """Filtering works on a copy."""
    root = etree.fromstring(application_transfer())
    before = etree.tostring(root)
    apply_policy(root, compile_allowlist(POLICY, PartyRole.KELA, NAMESPACES))
    assert etree.tostring(root) == before


def test_unlisted_attributes_and_foreign_namespace_attributes_are_removed() -> None:
    """Only `currency` on Amount is listed; other attributes are stripped."""
    root = etree.fromstring(application_transfer())
    amount = next(root.iter("{urn:fi:silta:application-transfer:1}Amount"))
    amount.set("note", "x")
    amount.set("{urn:other}flag", "y")
    result = apply_policy(root, compile_allowlist(POLICY, PartyRole.ORGANISER, NAMESPACES))
    kept = next(result.document.iter("{urn:fi:silta:application-transfer:1}Amount"))
    assert kept.items() == [("currency", "EUR")]
    assert result.removed["CostItems/CostItem/Amount/@note"] == 1


_NAMES = st.sampled_from(["Applicant", "Notes", "Health", "Assessment", "Surname", "Envelope", "X", "CostItem"])


@st.composite
def _intruders(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    count = draw(st.integers(min_value=1, max_value=6))
    return [
        (
            draw(st.sampled_from(["", "Applicant", "CostItems/CostItem", "Envelope", "BasicDecision/Period"])),
            draw(_NAMES),
            draw(st.sampled_from(["urn:fi:silta:application-transfer:1", "urn:evil", ENVELOPE_NAMESPACE])),
        )
        for _ in range(count)
    ]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_intruders(), st.sampled_from(list(PartyRole)))
def test_nothing_outside_the_allowlist_ever_passes(intruders: list[tuple[str, str, str]], role: PartyRole) -> None:
    """Property: for documents with invented elements anywhere, every path that survives is allowed."""
    root = etree.fromstring(application_transfer())
    for parent_path, name, namespace in intruders:
        parents = [root]
        for step in parent_path.split("/") if parent_path else []:
            parents = [child for parent in parents for child in parent if local_name(child) == step]
        for parent in parents:
            etree.SubElement(parent, f"{{{namespace}}}{name}").text = "leak"
    result = apply_policy(root, compile_allowlist(POLICY, role, NAMESPACES))
    allowed = POLICY.allowed_paths(role)
    containers = {"/".join(p.split("/")[:n]) for p in allowed for n in range(1, p.count("/") + 1)}
    assert _paths(result.document) <= allowed | containers


def test_a_rule_without_legal_basis_fails_to_load() -> None:
    """A policy that would disclose on no basis is refused at start-up."""
    with pytest.raises(PolicyError, match="legal_basis"):
        parse_policy(b'message_type = "x"\n[[organiser]]\npath = "A"\npurpose = "p"\n', "x.toml")


def test_an_unknown_role_fails_to_load() -> None:
    """A policy for a role Silta does not know is refused."""
    with pytest.raises(PolicyError, match="unknown recipient role"):
        parse_policy(b'message_type = "x"\n[[neighbour]]\npath = "A"\nlegal_basis = "b"\npurpose = "p"\n', "x.toml")


def test_policy_version_is_the_hash_of_the_file() -> None:
    """The version recorded with each disclosure changes whenever the file changes."""
    one = parse_policy(b'message_type = "x"\n', "x.toml")
    two = parse_policy(b'message_type = "x"\n# reviewed\n', "x.toml")
    assert one.version != two.version
    assert len(one.version) == 64


def test_guardian_gets_the_principals_own_data_but_no_household_member() -> None:
    """442/1999 29 §, 89 §: the guardian sees the principal's transfer, never other household members' codes."""
    root = etree.fromstring(application_transfer())
    result = apply_policy(root, compile_allowlist(POLICY, PartyRole.GUARDIAN, NAMESPACES))
    text = etree.tostring(result.document)
    assert b"010594Y9032" in text
    assert b"120390-912T" not in text
    assert b"230715A931C" not in text
    assert result.removed == {"HouseholdMembers": 1}
    assert PIPELINE.schemas.is_valid(result.document, PIPELINE.schemas.message_type_of(root))


def test_organiser_receives_the_household_needed_to_decide() -> None:
    """1412/1997 14 c §: the organiser decides per household, so it receives the household members' identity."""
    root = etree.fromstring(application_transfer())
    result = apply_policy(root, compile_allowlist(POLICY, PartyRole.ORGANISER, NAMESPACES))
    assert b"120390-912T" in etree.tostring(result.document)
    assert not result.removed
