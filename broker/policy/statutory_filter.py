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
    disclosed: set[str] = field(default_factory=set)
    """The allowlisted paths that the document really carried: what is disclosed."""


@dataclass
class _Step:
    """One element of the allowlist tree: which children and attributes it may keep."""

    name: str
    text_allowed: bool = False
    attributes: set[str] = field(default_factory=set)
    children: dict[str, _Step] = field(default_factory=dict)


@dataclass(frozen=True)
class Allowlist:
    """One role's allowed paths under one policy, as a tree keyed by qualified element names.

    Each step is keyed by `{namespace}name` for each of the message's own
    namespaces, so filtering is one dictionary look-up per element; anything
    in another namespace finds no key and is removed.
    """

    root: _Step


def compile_allowlist(policy: Policy, role: PartyRole, namespaces: frozenset[str]) -> Allowlist:
    """The allowlist of `role` under `policy`; elements outside `namespaces` are never allowed."""
    root = _Step("")
    for path in sorted(policy.allowed_paths(role)):
        *elements, last = path.split("/")
        step = root
        for name in elements:
            step = _child(step, name, namespaces)
        if last.startswith("@"):
            step.attributes.add(last[1:])
        else:
            _child(step, last, namespaces).text_allowed = True
    return Allowlist(root)


def _child(step: _Step, name: str, namespaces: frozenset[str]) -> _Step:
    keys = [f"{{{namespace}}}{name}" for namespace in namespaces]
    child = next((step.children[key] for key in keys if key in step.children), None) or _Step(name)
    for key in keys:  # every namespace's name leads to the same step
        step.children[key] = child
    return child


def apply_policy(root: etree._Element, allow: Allowlist, *, in_place: bool = False) -> FilterResult:
    """What of `root` the allowlist lets through; the input is changed only `in_place`."""
    result = FilterResult(root if in_place else copy.deepcopy(root))
    _strip(result.document, allow.root, "", result)
    return result


def _strip(element: etree._Element, step: _Step, path: str, result: FilterResult) -> None:
    removed = result.removed
    if step.text_allowed:
        result.disclosed.add(path)
    if element.attrib:
        for name in [str(key) for key in element.attrib.keys()]:  # noqa: SIM118  attrib is no dict
            if name in step.attributes:
                result.disclosed.add(f"{path}/@{name}")
            else:  # a namespaced attribute is `{ns}name`: never listed
                del element.attrib[name]
                removed[f"{path}/@{name.rpartition('}')[2]}"] += 1
    if path and not step.text_allowed and element.text and element.text.strip():
        element.text = None
        removed[path + "/text()"] += 1
    for child in list(element):
        tag = child.tag
        child_step = step.children.get(tag) if isinstance(tag, str) else None
        if child_step is None:
            element.remove(child)
            if isinstance(tag, str):
                removed[f"{path}/{tag.rpartition('}')[2]}".lstrip("/")] += 1
        else:
            _strip(child, child_step, f"{path}/{child_step.name}" if path else child_step.name, result)
