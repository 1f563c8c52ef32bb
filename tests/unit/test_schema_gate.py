"""The schema gate: every valid example passes the pipeline; every invalid one fails as its name promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broker.app import build_pipeline
from broker.domain.errors import Rejection
from broker.settings import PROJECT_ROOT, Settings
from tests.conftest import KELA

EXAMPLES = PROJECT_ROOT / "schemas" / "examples"
PIPELINE = build_pipeline(Settings())
_EXPECT = re.compile(rb"<!-- expect: ([a-z-]+);")


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.xml")), ids=lambda p: p.name)
def test_valid_examples_are_accepted(path: Path) -> None:
    """A valid example goes through every stage."""
    accepted = PIPELINE.accept(path.read_bytes(), KELA)
    assert accepted.message_type == path.name.split("--")[0].removesuffix(".xml")


@pytest.mark.parametrize("path", sorted((EXAMPLES / "invalid").glob("*.xml")), ids=lambda p: p.name)
def test_invalid_examples_fail_with_the_promised_code(path: Path) -> None:
    """An invalid example is rejected with the error code its header comment names."""
    data = path.read_bytes()
    expected = _EXPECT.search(data)
    assert expected is not None, f"{path.name} has no `<!-- expect: code; … -->` line"
    with pytest.raises(Rejection) as caught:
        PIPELINE.accept(data, KELA)
    assert caught.value.code == expected.group(1).decode()
    assert caught.value.errors, "a rejection names where the fault is"


def test_there_are_at_least_five_invalid_application_transfers() -> None:
    """The spine promises five or more invalid examples of its message type."""
    assert len(list((EXAMPLES / "invalid").glob("application-transfer--*.xml"))) >= 5
