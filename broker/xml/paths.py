"""Readable paths to elements, for error reports and for the statutory filter."""

from __future__ import annotations

from lxml import etree


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def element_path(element: etree._Element) -> str:
    """An XPath-like path of local names, `/Root/Child[2]/Leaf`, indexed where siblings repeat."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        step = local_name(node)
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))
