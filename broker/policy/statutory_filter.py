"""Apply a disclosure policy to a document: default deny.

The function copies the document and removes every element and attribute
whose path the policy does not list for the recipient's role, and everything
in a namespace that is not the message's own. It reports what it removed as
paths and counts, never values.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from broker.domain.parties import PartyRole
from broker.policy.model import Policy


@dataclass
class FilterResult:
    """The document as the recipient may see it, and what was taken out."""

    document: etree._Element
    removed: Counter[str] = field(default_factory=Counter)


def _prefixes(paths: frozenset[str]) -> frozenset[str]:
    parts = (path.split("/") for path in paths if "@" not in path)
    return frozenset("/".join(steps[:n]) for steps in parts for n in range(1, len(steps)))


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


@dataclass(frozen=True)
class _Allow:
    paths: frozenset[str]
    containers: frozenset[str]
    namespaces: frozenset[str]


def apply_policy(root: etree._Element, policy: Policy, role: PartyRole, namespaces: frozenset[str]) -> FilterResult:
    """What of `root` the `role` may receive under `policy`; the input is not changed."""
    allowed = policy.allowed_paths(role)
    allow = _Allow(allowed, _prefixes(allowed), namespaces)
    result = FilterResult(copy.deepcopy(root))
    _strip(result.document, "", allow, result.removed)
    return result


def _strip(element: etree._Element, path: str, allow: _Allow, removed: Counter[str]) -> None:
    for name in list(element.attrib):
        qname = etree.QName(name)
        attribute_path = _join(path, "@" + qname.localname)
        if qname.namespace is not None or attribute_path not in allow.paths:
            del element.attrib[name]
            removed[attribute_path] += 1
    if path and path not in allow.paths and (element.text or "").strip():
        element.text = None
        removed[path + "/text()"] += 1
    for child in list(element):
        if not isinstance(child.tag, str):
            element.remove(child)
            continue
        qname = etree.QName(child)
        child_path = _join(path, qname.localname)
        if qname.namespace in allow.namespaces and (child_path in allow.paths or child_path in allow.containers):
            _strip(child, child_path, allow, removed)
        else:
            element.remove(child)
            removed[child_path] += 1
