"""The schema gate: every valid example passes the pipeline; every invalid one fails as its name promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broker.crypto.tokens import Caller
from broker.domain.catalogue import CATALOGUE
from broker.domain.errors import Rejection
from broker.settings import PROJECT_ROOT, Settings
from entrypoints.bootstrap import build_pipeline

EXAMPLES = PROJECT_ROOT / "schemas" / "examples"
PIPELINE = build_pipeline(Settings())
_EXPECT = re.compile(rb"<!-- expect: ([a-z-]+);")
_SENDER = re.compile(rb"<env:Sender>([a-z0-9-]+)</env:Sender>")


def _sender(data: bytes) -> Caller:
    """The example's envelope sender as the authenticated caller (Kela if the document has none)."""
    found = _SENDER.search(data)
    party = found.group(1).decode() if found else "kela"
    return Caller(f"{party}-client", party)


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.xml")), ids=lambda p: p.name)
def test_valid_examples_are_accepted(path: Path) -> None:
    """A valid example goes through every stage."""
    data = path.read_bytes()
    accepted = PIPELINE.accept(data, _sender(data))
    assert accepted.message_type == path.name.split("--")[0].removesuffix(".xml")


@pytest.mark.parametrize("path", sorted((EXAMPLES / "invalid").glob("*.xml")), ids=lambda p: p.name)
def test_invalid_examples_fail_with_the_promised_code(path: Path) -> None:
    """An invalid example is rejected with the error code its header comment names."""
    data = path.read_bytes()
    expected = _EXPECT.search(data)
    assert expected is not None, f"{path.name} has no `<!-- expect: code; … -->` line"
    with pytest.raises(Rejection) as caught:
        PIPELINE.accept(data, _sender(data))
    assert caught.value.code == expected.group(1).decode()
    assert caught.value.errors, "a rejection names where the fault is"


def test_there_are_at_least_five_invalid_application_transfers() -> None:
    """The spine promises five or more invalid examples of its message type."""
    assert len(list((EXAMPLES / "invalid").glob("application-transfer--*.xml"))) >= 5


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_type_has_one_valid_and_two_invalid_examples(name: str) -> None:
    """Each message type of the catalogue ships at least one valid and two invalid examples."""
    assert (EXAMPLES / "valid" / f"{name}.xml").is_file()
    assert len(list((EXAMPLES / "invalid").glob(f"{name}--*.xml"))) >= 2


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.xml")), ids=lambda p: p.name)
def test_organiser_examples_are_sent_by_hva_08(path: Path) -> None:
    """The issue asks for organiser-sent examples to come from hva-08; Kela's come from kela."""
    assert _sender(path.read_bytes()).party in {"kela", "hva-08"}
