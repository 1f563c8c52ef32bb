"""What the logs record, as types: the disclosure facts of a message and a usage of someone's data.

Act 703/2023 10 § asks who used or received whose data, when, why and on what
basis. These records carry field categories and pseudonyms, never values or
identity codes; the store keeps them as JSON, and these types are the only
way in and out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DisclosureFacts:
    """Whose data a message discloses to its recipient, which categories, on what basis and for what purpose."""

    data_subject: str | None
    """The pseudonym of the person the message is about (the envelope's DataSubject)."""
    subjects: tuple[str, ...] = ()
    """The pseudonym of every person whose identity code reaches the recipient."""
    categories: tuple[str, ...] = ()
    legal_bases: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    policy_version: str | None = None
    free_text: tuple[str, ...] = ()
    """Paths of free-text fields that reached the recipient (flagged to it, 15 §)."""

    def to_json(self) -> dict[str, Any]:
        """The facts as stored with the message."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> DisclosureFacts:
        """The facts as stored; a purged or missing record has none."""
        stored = stored or {}
        return cls(
            data_subject=stored.get("data_subject"),
            subjects=tuple(stored.get("subjects", ())),
            categories=tuple(stored.get("categories", ())),
            legal_bases=tuple(stored.get("legal_bases", ())),
            purposes=tuple(stored.get("purposes", ())),
            policy_version=stored.get("policy_version"),
            free_text=tuple(stored.get("free_text", ())),
        )


@dataclass(frozen=True)
class UsageEntry:
    """One use of a person's data: who (user and party), why, which categories, and what was looked at."""

    subject: str | None
    """The pseudonym of the person whose data was used."""
    user: str
    party: str
    purpose: str
    data: tuple[str, ...]
    details: dict[str, str] = field(default_factory=dict)
    """What was used: a message id and type, an attachment id, a principal reference, the portal."""

    def log_entry(self) -> tuple[str | None, dict[str, Any]]:
        """The (subject, payload) pair the usage chain appends."""
        payload: dict[str, Any] = {"user": self.user, "party": self.party, "purpose": self.purpose}
        payload["data"] = list(self.data)
        return self.subject, {**payload, **self.details}
