"""What a broker keeps on disk: a scan of its log segments for anything of a message in clear."""

from __future__ import annotations

import re
from pathlib import Path

from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE, is_valid_identity_code

# An element of any Silta message: the envelope's, or the person's data (namespaced or not).
_ELEMENT = re.compile(rb"<(?:\w+:)?(?:Envelope|MessageId|PersonalIdentityCode|DataSubject|CaseId|Sender)\b")


def clear_text_in_segments(data_dir: Path) -> list[str]:
    """`file: what` for each identity code or message element found in the broker's `.log` segments."""
    found: list[str] = []
    for segment in sorted(data_dir.rglob("*.log")):
        if segment.name == "kafka.log":  # the broker's own output, not a partition
            continue
        content = segment.read_bytes()
        element = _ELEMENT.search(content)
        if element is not None:
            found.append(f"{segment.relative_to(data_dir)}: {element.group(0)!r}")
        found += [f"{segment.relative_to(data_dir)}: {code!r}" for code in _identity_codes(content)][:1]
    return found


def _identity_codes(content: bytes) -> list[str]:
    """Valid identity codes (date and check character): base64 of a ciphertext has code-shaped runs by chance."""
    text = content.decode("latin-1")
    return [m.group(0) for m in LOOKS_LIKE_IDENTITY_CODE.finditer(text) if is_valid_identity_code(m.group(0))]
