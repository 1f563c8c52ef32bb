"""The inbound corpus: every document the fuzzer (or an organiser) broke the pipeline with stays fixed.

Each file in tests/corpus/inbound/ is one case, with a comment saying what it
caught and a comment `expect: accepted` or `expect: <error code>`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from broker.domain.errors import ErrorCode
from broker.settings import PROJECT_ROOT
from tests.unit.test_inbound_fuzz import PIPELINE, accept_or_code

CORPUS = sorted((PROJECT_ROOT / "tests" / "corpus" / "inbound").glob("*.xml"))
_EXPECT = re.compile(rb"<!-- expect: ([a-z-]+) -->")


def _expected(path: Path) -> ErrorCode | None:
    found = _EXPECT.search(path.read_bytes())
    assert found is not None, f"{path.name} says nothing about what to expect"
    outcome = found.group(1).decode()
    return None if outcome == "accepted" else ErrorCode(outcome)


def test_the_corpus_is_not_empty() -> None:
    """The corpus folder is found (an empty parametrisation would pass silently)."""
    assert len(CORPUS) >= 8


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_document_is_schema_valid(path: Path) -> None:
    """Each case passes the XSD gate, so it reaches the value checks behind it."""
    root = etree.fromstring(path.read_bytes())
    assert PIPELINE.schemas.is_valid(root, PIPELINE.schemas.message_type_of(root))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_document_gets_its_expected_outcome(path: Path) -> None:
    """Each case is accepted or rejected with the code its comment names, never another exception."""
    assert accept_or_code(path.read_bytes()) == _expected(path)
