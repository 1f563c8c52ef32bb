"""What the bench sends: transfers of a chosen size, organisers' answers, and when to send them (pure)."""

from __future__ import annotations

import itertools
import uuid

from lxml import etree

from broker.domain.envelope import ENVELOPE_NAMESPACE
from devinfra.samples import application_transfer, example_message

ORGANISER = "hva-90"
"""The City of Helsinki: the organiser of the samples' home municipality 091."""
_NS = "urn:fi:silta:application-transfer:1"
_MAX_COST_ITEMS = 50  # the XSD's maxOccurs
_MAX_DESCRIPTION = 1000  # the XSD's maxLength
_CATEGORIES = ("household-goods", "special-health-costs", "childrens-hobbies", "moving", "preventive")
# ASCII without markup characters, so one character is one byte in the document.
_SENTENCES = (
    "Washing machine to replace one that broke in January; repair was judged not worth it by the service.",
    "Prescription medicines not covered by the reimbursement scheme, receipts for three months enclosed.",
    "Membership and equipment for the younger child's floorball team for the spring and autumn seasons.",
    "Removal costs and the first month's rent deposit for the smaller flat the household moved into.",
    "Dental treatment for the applicant, estimate from the private clinic as the public queue is long.",
    "Bus card for the older child to reach the special school across the city, one school year.",
    "Electricity arrears that would lead to disconnection without help; the payment plan is attached.",
)


def padded_transfer(message_id: str, size: int) -> bytes:
    """An application transfer of `size` bytes (as near as the XSD allows), padded with realistic cost items.

    The sample is about 2 KB; below that it is returned as it is. Each added cost item carries a
    description of up to 1,000 characters, and the last one is cut so the document has exactly `size`
    bytes. A document that would need more than the XSD's 50 cost items is refused.
    """
    root = etree.fromstring(application_transfer(message_id, case_id=f"KELA-TOTU-{uuid.uuid4().hex[:12]}"))
    items = root.find(f"{{{_NS}}}CostItems")
    assert items is not None  # the sample always has them
    text = itertools.cycle(_SENTENCES)
    while len(_serialise(root)) < size:
        if len(items) >= _MAX_COST_ITEMS:
            raise ValueError(f"{size} bytes need more than {_MAX_COST_ITEMS} cost items")
        description = _add_cost_item(items, len(items))
        room = min(size - len(_serialise(root)), _MAX_DESCRIPTION)
        if room < 0:  # not even an empty item fits
            items.remove(items[-1])
            break
        description.text = _description(text, room)
    return _serialise(root)


def _add_cost_item(items: etree._Element, index: int) -> etree._Element:
    item = etree.SubElement(items, f"{{{_NS}}}CostItem")
    etree.SubElement(item, f"{{{_NS}}}Category").text = _CATEGORIES[index % len(_CATEGORIES)]
    amount = etree.SubElement(item, f"{{{_NS}}}Amount", currency="EUR")
    amount.text = f"{40 + (index * 37) % 900}.{index * 13 % 100:02d}"
    description = etree.SubElement(item, f"{{{_NS}}}Description")
    description.text = ""  # serialised as an open and a close tag, so its length counts from here
    return description


def _description(sentences: itertools.cycle[str], length: int) -> str:
    text = ""
    while len(text) < length:
        text += next(sentences) + " "
    return text[:length]


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def transfer_return(transfer_id: str, org: str = ORGANISER) -> bytes:
    """The organiser's answer to a transfer: a transfer return (reason: costs belong to basic assistance)."""
    root = etree.fromstring(example_message("transfer-return", correlation_id=transfer_id, municipality="091"))
    sender = next(root.iter(f"{{{ENVELOPE_NAMESPACE}}}Sender"))
    sender.text = org
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def send_schedule(count: int, rate: float | None) -> list[float]:
    """When to send each message, in seconds from the start: evenly `1 / rate` apart; all at 0 when unpaced."""
    if rate is None:
        return [0.0] * count
    if rate <= 0:
        raise ValueError("the rate must be positive")
    return [i / rate for i in range(count)]


def answered(message_ids: list[str], fraction: float) -> set[str]:
    """The transfers the organiser answers: `fraction` of them, spread evenly through the run."""
    if not 0 <= fraction <= 1:
        raise ValueError("the answered fraction is between 0 and 1")
    return {m for i, m in enumerate(message_ids) if int((i + 1) * fraction) > int(i * fraction)}
