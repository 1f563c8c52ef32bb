"""Policies are checked against the schemas at start-up, and docs/policy.md is their current export."""

from __future__ import annotations

import dataclasses

import pytest

from broker.domain.errors import ErrorCode, Rejection
from broker.domain.parties import PartyRole
from broker.policy.model import FieldRule, PolicyError
from broker.policy.report import policy_markdown, policy_table
from broker.settings import PROJECT_ROOT, Settings
from devinfra.samples import application_transfer
from entrypoints.bootstrap import build_pipeline
from entrypoints.cli import main
from tests.conftest import KELA

PIPELINE = build_pipeline(Settings())
V1 = ("application-transfer", "1.0")
V2 = ("application-transfer", "2.0")


def test_a_policy_naming_a_field_the_schema_lacks_fails_at_start_up() -> None:
    """A typo or a removed field in a policy stops the service from starting, naming the field."""
    policy = PIPELINE.policies[V1]
    wrong = dataclasses.replace(policy, rules={PartyRole.ORGANISER: (FieldRule("Applicant/ShoeSize", "x", "y"),)})
    with pytest.raises(PolicyError, match="Applicant/ShoeSize"):
        dataclasses.replace(PIPELINE, policies={V1: wrong})


def test_docs_policy_md_is_the_current_export() -> None:
    """Reviewers read docs/policy.md; it must match the policy files (run `silta policy export`)."""
    assert (PROJECT_ROOT / "docs" / "policy.md").read_text() == policy_markdown(PROJECT_ROOT / "policies")


def test_policy_table_filters_by_type_and_recipient() -> None:
    """`silta policy show --recipient organiser` lists only the organiser's fields."""
    rows = policy_table(PROJECT_ROOT / "policies", "application-transfer", "organiser").splitlines()
    assert rows[0].startswith("type\tversion\trecipient")
    assert all("\torganiser\t" in row for row in rows[1:])
    municipality_rows = policy_table(PROJECT_ROOT / "policies", None, "municipality").splitlines()[1:]
    assert municipality_rows
    assert {row.split("\t")[0] for row in municipality_rows} == {"immigrant-notice"}


def test_disclosure_facts_name_every_person_by_pseudonym_and_the_categories() -> None:
    """14 c §: the applicant and both household members are data subjects; the facts hold no identity code."""
    accepted = PIPELINE.accept(application_transfer(with_attachments=True), KELA)
    facts = accepted.disclosure
    assert len(facts.subjects) == 3
    assert list(facts.categories) == [
        "Applicant",
        "Attachments",
        "BasicDecision",
        "CostItems",
        "Envelope",
        "HouseholdMembers",
        "TransferRequest",
        "Urgency",
    ]
    assert "1412/1997 14 c §" in facts.legal_bases
    assert "9032" not in str(facts)


def test_disclosure_facts_follow_what_was_really_sent() -> None:
    """A document without household members discloses no household category."""
    document = application_transfer()
    start, end = document.index(b"<HouseholdMembers>"), document.index(b"</HouseholdMembers>") + 19
    accepted = PIPELINE.accept(document[:start] + document[end:], KELA)
    assert "HouseholdMembers" not in accepted.disclosure.categories
    assert len(accepted.disclosure.subjects) == 1


def test_policy_show_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`silta policy show --type application-transfer --recipient organiser` prints one row per organiser field."""
    assert main(["policy", "show", "--type", "application-transfer", "--recipient", "organiser"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    organiser = [PIPELINE.policies[key].rules[PartyRole.ORGANISER] for key in (V1, V2)]
    assert len(rows) == 1 + sum(len(rules) for rules in organiser)
    assert {row.split("\t")[1] for row in rows[1:]} == {"1.0", "2.0"}


def test_a_policy_that_leaves_an_invalid_message_is_refused_not_sent() -> None:
    """If a policy drops a field the recipient's schema requires, the message is refused (500), never sent broken."""
    policy = PIPELINE.policies[V1]
    organiser = tuple(r for r in policy.rules[PartyRole.ORGANISER] if r.path != "Applicant/Surname")
    pipeline = dataclasses.replace(
        PIPELINE, policies={V1: dataclasses.replace(policy, rules={PartyRole.ORGANISER: organiser})}
    )
    with pytest.raises(Rejection) as caught:
        pipeline.accept(application_transfer(), KELA)
    assert caught.value.code is ErrorCode.FILTERED_MESSAGE_INVALID
    assert caught.value.status == 500
