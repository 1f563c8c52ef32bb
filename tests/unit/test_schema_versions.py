"""Two live versions of one message type side by side: each is accepted with its own schema and policy."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from broker.domain.catalogue import APPLICATION_TRANSFER
from broker.domain.errors import ErrorCode, Rejection
from broker.policy.model import PolicyError, parse_policy
from broker.settings import Settings
from devinfra.samples import application_transfer
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KELA

PIPELINE = build_pipeline(Settings())
_NS = {"t": APPLICATION_TRANSFER.namespace}
_LANGUAGE = "t:Applicant/t:PreferredLanguage"


def _rejection(document: bytes) -> Rejection:
    with pytest.raises(Rejection) as caught:
        PIPELINE.accept(document, KELA)
    return caught.value


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_both_live_versions_are_accepted_and_named_in_the_header(version: str) -> None:
    """A 1.0 and a 2.0 transfer both pass every stage; the record header and the result carry the version."""
    accepted = PIPELINE.accept(application_transfer(schema_version=version), KELA)
    assert accepted.schema_version == version
    assert accepted.record.headers["silta-schema"] == f"urn:fi:silta:application-transfer:1#{version}"


def test_a_2_0_transfer_delivers_the_preferred_language_to_the_organiser() -> None:
    """The 2.0 policy lists PreferredLanguage for the organiser (423/2003 10 §), so it arrives."""
    accepted = PIPELINE.accept(application_transfer(schema_version="2.0", preferred_language="sv"), KELA)
    delivered = etree.fromstring(accepted.record.value)
    assert delivered.findtext(_LANGUAGE, namespaces=_NS) == "sv"
    assert "Applicant/PreferredLanguage" not in accepted.removed_fields


def test_the_guardian_never_sees_the_preferred_language() -> None:
    """Default deny: no guardian rule names PreferredLanguage, so the guardian's view leaves it out."""
    accepted = PIPELINE.accept(application_transfer(schema_version="2.0", preferred_language="fi"), KELA)
    document, categories = PIPELINE.guardian_view(accepted.record.value, "application-transfer")
    assert document.find(_LANGUAGE, namespaces=_NS) is None
    assert document.findtext("t:Applicant/t:Surname", namespaces=_NS) == "Meikäläinen"
    assert "Applicant" in categories


def test_an_unsupported_version_is_refused_naming_the_supported_ones() -> None:
    """2.7 is no version of application-transfer: refused before any schema, pointing at SchemaVersion."""
    rejection = _rejection(application_transfer(schema_version="2.7"))
    assert rejection.code is ErrorCode.UNSUPPORTED_SCHEMA_VERSION
    assert rejection.status == 422
    assert "1.0, 2.0" in rejection.detail
    assert [item.path for item in rejection.errors] == ["/ApplicationTransfer/Envelope/SchemaVersion"]


def test_a_1_0_document_cannot_carry_a_2_0_field() -> None:
    """PreferredLanguage came with 2.0: a document that says 1.0 is checked against 1.0 and refused."""
    rejection = _rejection(application_transfer(schema_version="1.0", preferred_language="sv"))
    assert rejection.code is ErrorCode.SCHEMA_INVALID
    assert any("PreferredLanguage" in item.reason or "PreferredLanguage" in item.path for item in rejection.errors)


def test_the_version_in_an_error_detail_is_scrubbed_and_bounded() -> None:
    """A sender cannot make Silta echo an identity code (or a long text) from the SchemaVersion element."""
    rejection = _rejection(application_transfer(schema_version="010594Y9032"))
    assert rejection.code is ErrorCode.UNSUPPORTED_SCHEMA_VERSION
    assert "010594Y9032" not in rejection.detail
    assert len(_rejection(application_transfer(schema_version="9" * 5000)).detail) < 200


def test_a_policy_for_a_version_the_catalogue_lacks_fails_at_start_up() -> None:
    """A policy written for 3.0 before the catalogue lists 3.0 stops the service from starting."""
    policy = dataclasses.replace(PIPELINE.policies["application-transfer", "2.0"], schema_version="3.0")
    with pytest.raises(PolicyError, match=r"application-transfer 3\.0"):
        dataclasses.replace(PIPELINE, policies={policy.key: policy})


def test_the_1_0_policy_may_not_name_a_2_0_field() -> None:
    """Each policy is checked against its own version's schema: 1.0 has no PreferredLanguage."""
    v1, v2 = PIPELINE.policies["application-transfer", "1.0"], PIPELINE.policies["application-transfer", "2.0"]
    wrong = dataclasses.replace(v2, schema_version="1.0")
    assert v1.key != v2.key
    with pytest.raises(PolicyError, match="Applicant/PreferredLanguage"):
        dataclasses.replace(PIPELINE, policies={wrong.key: wrong})


@pytest.mark.parametrize("value", ["2", "two", ""])
def test_a_policy_schema_version_must_be_major_dot_minor(value: str) -> None:
    """`schema_version` in a policy file is a version such as "2.0"; anything else is a load error."""
    document = f'message_type = "application-transfer"\nschema_version = "{value}"\n'.encode()
    with pytest.raises(PolicyError, match="schema_version"):
        parse_policy(document, "x.toml")


def test_a_policy_without_schema_version_is_for_1_0() -> None:
    """The policy files written before versions existed stay valid and mean version 1.0."""
    assert parse_policy(b'message_type = "statement"\n', "statement.toml").key == ("statement", "1.0")
