"""Disclosure policies, read from the TOML files under `policies/`.

A policy lists, per recipient role, each field that role may receive, with the
legal basis and the purpose. A rule without a legal basis is a load error:
Silta refuses to start rather than disclose on no basis.

Each policy is for one schema version of its type (`schema_version`, "1.0" if
the file does not say): a field a new version adds reaches nobody until that
version's policy lists it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from broker.domain.parties import PartyRole

PolicyKey = tuple[str, str]
"""(message type, schema version): what a policy is for."""
_VERSION = re.compile(r"[0-9]+\.[0-9]+")


class PolicyError(Exception):
    """A policy file is malformed; the message says which file and rule."""


@dataclass(frozen=True)
class FieldRule:
    """One field a recipient role may receive, and why."""

    path: str
    legal_basis: str
    purpose: str
    free_text: bool = False
    """Unstructured text (bounded by the schema): flagged to the recipient and in the disclosure log."""


@dataclass(frozen=True)
class Policy:
    """What each recipient role may receive of one message type."""

    message_type: str
    version: str
    """SHA-256 of the policy file's bytes: recorded with every disclosure."""
    rules: dict[PartyRole, tuple[FieldRule, ...]]
    schema_version: str = "1.0"
    """The version of the type's schema this policy is for."""

    @property
    def key(self) -> PolicyKey:
        """(message type, schema version)."""
        return (self.message_type, self.schema_version)

    def allowed_paths(self, role: PartyRole) -> frozenset[str]:
        """The paths this role may receive; empty (deny everything) for an unlisted role."""
        return frozenset(rule.path for rule in self.rules.get(role, ()))


def _rule(source: str, role: str, index: int, raw: object) -> FieldRule:
    where = f"{source}: {role} rule {index + 1}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a table with path, legal_basis and purpose")
    values = {key: raw.get(key) for key in ("path", "legal_basis", "purpose")}
    for key, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise PolicyError(f"{where}: `{key}` is missing or empty")
    free_text = raw.get("free_text", False)
    if not isinstance(free_text, bool):
        raise PolicyError(f"{where}: `free_text` must be true or false")
    unknown = set(raw) - {*values, "free_text"}
    if unknown:
        raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
    return FieldRule(str(values["path"]), str(values["legal_basis"]), str(values["purpose"]), free_text)


def parse_policy(data: bytes, source: str) -> Policy:
    """Build a policy from a TOML document, or raise `PolicyError` naming the fault."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PolicyError(f"{source}: not valid TOML: {error}") from None
    message_type = document.pop("message_type", None)
    if not isinstance(message_type, str):
        raise PolicyError(f"{source}: `message_type` is missing")
    schema_version = document.pop("schema_version", "1.0")
    if not isinstance(schema_version, str) or not _VERSION.fullmatch(schema_version):
        raise PolicyError(f'{source}: `schema_version` must be a string such as "2.0"')
    rules: dict[PartyRole, tuple[FieldRule, ...]] = {}
    for role_name, raw_rules in document.items():
        try:
            role = PartyRole(role_name)
        except ValueError:
            raise PolicyError(f"{source}: unknown recipient role `{role_name}`") from None
        if not isinstance(raw_rules, list):
            raise PolicyError(f"{source}: `{role_name}` must be an array of tables ([[{role_name}]])")
        rules[role] = tuple(_rule(source, role_name, i, raw) for i, raw in enumerate(raw_rules))
    return Policy(message_type, hashlib.sha256(data).hexdigest(), rules, schema_version)


def load_policies(policy_dir: Path) -> dict[PolicyKey, Policy]:
    """Every policy file in the folder, by message type and schema version."""
    policies: dict[PolicyKey, Policy] = {}
    for path in sorted(policy_dir.glob("*.toml")):
        policy = parse_policy(path.read_bytes(), path.name)
        if policy.key in policies:
            raise PolicyError(f"{path.name}: a second policy for {policy.message_type} {policy.schema_version}")
        policies[policy.key] = policy
    return policies
