"""The organiser client reads Kela's application transfer by XML Schema's rules, like Silta does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from adapters.municipality.messages import application_transfer_from_xml
from broker.domain.errors import ErrorCode, Rejection
from devinfra.samples import application_transfer

_NS = "{urn:fi:silta:application-transfer:1}"


def _transfer(**texts: str) -> etree._Element:
    root = etree.fromstring(application_transfer(with_attachments=True))
    for name, text in texts.items():
        next(root.iter(_NS + name)).text = text
    return root


def test_edge_values_become_their_xsd_values() -> None:
    """24:00:00, a zoned date, a decimal with many digits and a padded size are read, not refused."""
    root = _transfer(
        RequestedAt="2025-03-10T24:00:00+02:00", DecisionDate="2025-03-01Z", Amount="+0120.5000", Size=" 42 "
    )
    transfer = application_transfer_from_xml(root)
    assert transfer.transfer_requested_at == dt.datetime(2025, 3, 11, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert transfer.basic_decision_date == dt.date(2025, 3, 1)
    assert transfer.cost_items[0].amount == Decimal("120.5")
    assert transfer.attachments[0].size == 42


def test_a_year_python_cannot_hold_is_a_coded_rejection() -> None:
    """A five-digit year is `value-out-of-range` at its path, which the client turns into an invalid record."""
    with pytest.raises(Rejection) as caught:
        application_transfer_from_xml(_transfer(RequestedAt="10000-01-01T00:00:00Z"))
    assert caught.value.code is ErrorCode.VALUE_OUT_OF_RANGE
    assert caught.value.errors[0].path.endswith("/TransferRequest/RequestedAt")
