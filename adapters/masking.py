"""Masking personal identity codes in text shown to a role without clearance.

Shared by every adapter that shows operators stored error details (the console, the admin API, the
CLI), so none of them depends on another's module.
"""

from __future__ import annotations

from broker.domain.clients import Role
from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE

UNMASKED_ROLES = frozenset({Role.KELA_DATA_PROTECTION})
"""Roles that may see personal identity codes in full; the operator and the admin see them masked."""


def mask_identity_codes(text: str, role: Role) -> str:
    """`text` with every personal identity code masked (010190-9***) unless `role` may see them."""
    if role in UNMASKED_ROLES:
        return text
    return LOOKS_LIKE_IDENTITY_CODE.sub(lambda m: f"{m.group(0)[:8]}***", text)
