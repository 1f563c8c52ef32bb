"""Every REST client has one role, checked with its party at start-up; the local defaults cover every role."""

from __future__ import annotations

import pydantic
import pytest

from broker.domain.clients import (
    DEV_CLIENT_PARTIES,
    DEV_CLIENT_ROLES,
    ClientConfigError,
    ClientGrant,
    Role,
    resolve_clients,
)
from broker.domain.parties import all_organisers
from broker.settings import Settings


def test_the_local_defaults_have_a_client_of_every_role_and_a_case_system_per_organiser() -> None:
    """`silta token --client X` works for each role, and for each of the 22 organisers' case systems."""
    grants = Settings().clients()
    assert {grant.role for grant in grants.values()} == set(Role)
    for organiser in all_organisers():
        assert grants[f"{organiser}-case-system"] == ClientGrant(Role.ORGANISER, organiser)
    assert grants["kela-data-protection"] == ClientGrant(Role.KELA_DATA_PROTECTION, "kela")
    assert grants["silta-operator"] == ClientGrant(Role.OPERATOR, "silta-operator")


def test_kela_clients_act_as_kela_and_the_others_as_no_party() -> None:
    """A Kela role implies the party kela; a portal, operator or admin acts as itself, never as a party."""
    grants = resolve_clients({"bo": Role.KELA, "ops": Role.OPERATOR}, {"bo": "kela", "ops": "ops"})
    assert grants == {"bo": ClientGrant(Role.KELA, "kela"), "ops": ClientGrant(Role.OPERATOR, "ops")}


@pytest.mark.parametrize(
    ("roles", "parties", "named"),
    [
        ({}, {"stray": "hva-08"}, "a party but no role: stray"),
        ({"cs": Role.ORGANISER}, {}, "the organiser role but no organiser id"),
        ({"cs": Role.ORGANISER}, {"cs": "hva-99"}, "cs → hva-99"),
        ({"cs": Role.ORGANISER}, {"cs": "kela"}, "cs → kela"),
        ({"cs": Role.ORGANISER}, {"cs": "kunta-837"}, "cs → kunta-837"),
        ({"dp": Role.KELA_DATA_PROTECTION}, {"dp": "hva-01"}, "a Kela role but another party than kela: dp → hva-01"),
        ({"ops": Role.OPERATOR}, {"ops": "kela"}, "the operator role, which acts as no party, but a party: ops"),
        ({"adm": Role.ADMIN}, {"adm": "hva-08"}, "adm → hva-08"),
    ],
)
def test_clients_that_do_not_fit_are_refused_by_name(
    roles: dict[str, Role], parties: dict[str, str], named: str
) -> None:
    """A client without a role, an organiser client naming no organiser, a role acting as the wrong party."""
    with pytest.raises(ClientConfigError, match=named):
        resolve_clients(roles, parties)


def test_settings_refuse_to_start_on_a_misfit_without_echoing_other_settings() -> None:
    """Overriding the parties alone leaves the default case systems without organisers: refused, naming them."""
    with pytest.raises(pydantic.ValidationError) as caught:
        Settings(auth_clients={"kela": "kela"}, database_url="postgresql+asyncpg://silta:hunter2@db/silta")
    message = str(caught.value)
    assert "hva-01-case-system" in message
    assert "hunter2" not in message


def test_the_defaults_fit_together() -> None:
    """The two default mappings name the same organiser clients."""
    assert set(DEV_CLIENT_PARTIES) <= set(DEV_CLIENT_ROLES)
    assert resolve_clients(DEV_CLIENT_ROLES, DEV_CLIENT_PARTIES) == Settings().clients()
