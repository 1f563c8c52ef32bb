"""Logs never carry a personal identity code, whichever library writes them."""

from __future__ import annotations

import logging

import pytest

from broker.logging import IdentityCodeFilter


def test_standard_library_records_are_scrubbed() -> None:
    """A third-party log line with a code in its arguments comes out masked."""
    record = logging.LogRecord("aiokafka", logging.DEBUG, __file__, 1, "Sending %s", ("<A>010594Y9032</A>",), None)
    assert IdentityCodeFilter().filter(record)
    assert record.getMessage() == "Sending <A>[identity code]</A>"


@pytest.mark.parametrize("message", ["plain text", "case KELA-1 accepted"])
def test_records_without_codes_are_unchanged(message: str) -> None:
    """Other records pass through untouched."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None)
    IdentityCodeFilter().filter(record)
    assert record.getMessage() == message
