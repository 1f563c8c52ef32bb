"""What the logs record, as types: the disclosure facts of a message and a usage of someone's data.

Act 703/2023 10 § asks who used or received whose data, when, why and on what
basis. These records carry field categories and pseudonyms, never values or
identity codes; the store keeps them as JSON, and these types are the only
way in and out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PSEUDONYM_VERSION = "pseudonym_version"
"""The payload field of a log entry naming the pseudonym key version of its subject (absent before versions: 1)."""


@dataclass(frozen=True, slots=True)
class Pseudonym:
    """A keyed pseudonym of an identity code and the version of the pseudonym key it was made with."""

    value: str
    version: int

    def payload(self) -> dict[str, int]:
        """What a log entry about this person carries besides the pseudonym itself: the key version."""
        return {PSEUDONYM_VERSION: self.version}


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
    pseudonym_version: int = 1
    """The pseudonym key version of `data_subject` and `subjects` (facts stored before versions: 1)."""

    def subject_pseudonym(self) -> Pseudonym | None:
        """The data subject's pseudonym with its key version, if the message names one."""
        return None if self.data_subject is None else Pseudonym(self.data_subject, self.pseudonym_version)

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
            pseudonym_version=int(stored.get(PSEUDONYM_VERSION, 1)),
        )


@dataclass(frozen=True)
class UsageEntry:
    """One use of a person's data: who (user and party), why, which categories, and what was looked at."""

    subject: Pseudonym | None
    """The pseudonym of the person whose data was used, with its key version."""
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
        if self.subject is None:
            return None, {**payload, **self.details}
        return self.subject.value, {**payload, **self.details, **self.subject.payload()}
