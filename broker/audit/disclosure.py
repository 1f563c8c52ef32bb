"""What a disclosure log entry says about one delivered message (categories, not values)."""

from __future__ import annotations

from lxml import etree

from broker.audit.pseudonym import Pseudonymiser
from broker.domain.disclosure import DisclosureFacts
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.parties import PartyRole
from broker.policy.model import Policy
from broker.xml.validation import IDENTITY_CODE_ELEMENTS


def disclosure_facts(
    document: etree._Element, disclosed_paths: set[str], policy: Policy, role: PartyRole, pseudonyms: Pseudonymiser
) -> DisclosureFacts:
    """Whose data, which field categories, on what legal basis and for what purpose a message discloses."""
    rules = [rule for rule in policy.rules.get(role, ()) if rule.path in disclosed_paths]
    namespaces = {ENVELOPE_NAMESPACE, etree.QName(document).namespace}
    tags = [f"{{{namespace}}}{name}" for namespace in namespaces for name in IDENTITY_CODE_ELEMENTS]
    codes = {(node.text or "").strip() for node in document.iter(*tags)}
    data_subject = document.findtext(f"{{{ENVELOPE_NAMESPACE}}}Envelope/{{{ENVELOPE_NAMESPACE}}}DataSubject")
    key = pseudonyms.current()  # one version for every pseudonym of the message, even across a rotation
    return DisclosureFacts(
        data_subject=key.of(data_subject.strip()).value if data_subject else None,
        subjects=tuple(sorted(key.of(code).value for code in codes if code)),
        categories=tuple(sorted({rule.path.split("/")[0] for rule in rules})),
        legal_bases=tuple(sorted({rule.legal_basis for rule in rules})),
        purposes=tuple(sorted({rule.purpose for rule in rules})),
        policy_version=policy.version,
        free_text=tuple(sorted({rule.path for rule in rules if rule.free_text})),
        pseudonym_version=key.version,
    )
