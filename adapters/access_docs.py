"""`docs/access.md`, generated from the role table: the roles, who may call which route, the local clients.

`silta access export` writes it; `tests/unit/test_access_docs.py` fails when
the file and the table (or a route's summary) part ways.
"""

from __future__ import annotations

from typing import Any

from adapters.access import ROUTE_ROLES
from broker.domain.clients import DEV_CLIENT_PARTIES, DEV_CLIENT_ROLES, ROLE_DUTIES, Role, resolve_clients

_HEADER = """# Who may call which route

<!-- Generated from `ROUTE_ROLES` in adapters/access.py and the roles in broker/domain/clients.py by
`silta access export`; tests/unit/test_access_docs.py keeps it current. Do not edit by hand. -->

Every REST client has one role, given in the settings: `SILTA_AUTH_CLIENT_ROLES` (client id → role)
and, for an organiser's case system, `SILTA_AUTH_CLIENTS` (client id → the organiser it acts for). The
service does not start while a client has a party but no role, or an organiser's client names no real
organiser. Each operation below admits the roles it ticks and nobody else, checked before the request
body is read: no token or a bad one is 401 (`token-missing`, `token-invalid`), a client the settings do
not name 403 `client-unknown`, another role 403 `client-not-allowed`. The route then narrows what an
admitted caller sees: an organiser only the messages it sent or receives (their status, history and
search results) and the attachments of those messages (or its own uploads); anything else is 404, or
absent from a search, exactly as if it did not exist. Kela's search holds Kela's messages; an operator's
every message, never a body or personal data.
"""

_DATA_SUBJECT = """## The data subject's question (703/2023 11 §)

A person may ask who used or received their data; the answer is due within two months and free of
charge. For the disclosures Silta made and the uses of data through Silta's APIs, **Kela's
data-protection function** answers it: it receives the request, and its client (role
`kela-data-protection`) alone may run `POST /kela/v1/disclosure-queries`, which answers from Silta's
disclosure and usage logs and writes the question itself to the usage log. Neither Kela's back office,
nor the guardians' portal, nor Silta's operators may run it. What an organiser disclosed or used in its
own case system is in the organiser's own logs, and the organiser answers for it.
"""

_NO_PARTY = frozenset({Role.GUARDIAN_PORTAL, Role.OPERATOR, Role.ADMIN})
_OPERATOR = """Operators and admins resolve dead letters: the records parked from organisers' topics (list by
error code, topic, sender and time; explain; replay one or all matching; discard with a reason, which the
usage log keeps) and the REST rejections kept for them (route template, code, body hash; never the body),
over `/admin/v1/parked`, `/admin/v1/rejections` and the console's dead-letter page. What happened to a
message, never what it says: a parked record's value is never shown.
"""


def _summary(document: dict[str, Any], method: str, path: str) -> str:
    """The first line of the operation's description in the OpenAPI document (its route's docstring)."""
    operation = document["paths"].get(path, {}).get(method.lower())
    if operation is None:
        return "(no such route)"
    description: str = operation.get("description", "")
    return description.strip().splitlines()[0] if description.strip() else ""


def _roles_section() -> list[str]:
    acts_as = {Role.KELA: "`kela`", Role.KELA_DATA_PROTECTION: "`kela`", Role.ORGANISER: "its organiser"}
    lines = ["## Roles", "", "| role | who | acts as |", "|---|---|---|"]
    lines += [f"| `{role}` | {ROLE_DUTIES[role]} | {acts_as.get(role, 'no party')} |" for role in Role]
    return [*lines, "", _OPERATOR]


def _routes_section(document: dict[str, Any]) -> list[str]:
    lines = ["## Routes", "", "| operation | what it does | " + " | ".join(f"`{role}`" for role in Role) + " |"]
    lines.append("|---|---|" + "---|" * len(Role))
    for (method, path), admitted in ROUTE_ROLES.items():
        ticks = " | ".join("✓" if role in admitted else "" for role in Role)
        lines.append(f"| `{method} {path}` | {_summary(document, method, path)} | {ticks} |")
    return [
        *lines,
        "",
        (
            "`GET /health/live`, `GET /health/ready`, `GET /metrics`, `GET /.well-known/jwks.json` (Silta's public"
            " record keys) and the API's description (`/openapi.json`,"
            " `/docs`, `/redoc`) need no token."
        ),
        "",
    ]


def _local_clients_section() -> list[str]:
    grants = resolve_clients(DEV_CLIENT_ROLES, DEV_CLIENT_PARTIES)
    lines = [
        "## The clients of a local run",
        "",
        "The defaults, so that `silta token --client CLIENT` works for each of them as printed:",
        "",
        "| client id | role | acts as |",
        "|---|---|---|",
    ]
    for client, grant in grants.items():
        if grant.role is not Role.ORGANISER:
            acts_as = "no party" if grant.role in _NO_PARTY else f"`{grant.party}`"
            lines.append(f"| `{client}` | `{grant.role}` | {acts_as} |")
    lines.append("| `hva-NN-case-system`, one for each of the 22 organisers | `organiser` | `hva-NN` |")
    return [*lines, ""]


def access_markdown(openapi: dict[str, Any]) -> str:
    """The Markdown of `docs/access.md`; each operation's summary comes from the app's OpenAPI document."""
    sections = [_HEADER, *_roles_section(), *_routes_section(openapi), _DATA_SUBJECT, *_local_clients_section()]
    return "\n".join(sections).rstrip() + "\n"
