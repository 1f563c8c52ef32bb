"""The roles of the tests' REST clients (their parties are `tests.conftest.CLIENTS`): one client of every role."""

from __future__ import annotations

from broker.domain.clients import Role

CLIENT_ROLES: dict[str, Role] = {
    "kela": Role.KELA,
    "kela-data-protection": Role.KELA_DATA_PROTECTION,
    "hva-08-case-system": Role.ORGANISER,
    "hva-06-case-system": Role.ORGANISER,
    "guardian-portal": Role.GUARDIAN_PORTAL,
    "silta-operator": Role.OPERATOR,
    "silta-admin": Role.ADMIN,
}
"""Client id → role for every test that runs the app; `CLIENTS` gives the organisers' clients their organiser."""

CLIENT_OF_ROLE: dict[Role, str] = {
    Role.KELA: "kela",
    Role.KELA_DATA_PROTECTION: "kela-data-protection",
    Role.ORGANISER: "hva-08-case-system",
    Role.GUARDIAN_PORTAL: "guardian-portal",
    Role.OPERATOR: "silta-operator",
    Role.ADMIN: "silta-admin",
}
"""A client of each role, for tests that call as a role."""
