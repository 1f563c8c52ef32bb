"""What a broker keeps on disk: a scan of its log segments for anything of a message in clear."""

from __future__ import annotations

import re
from pathlib import Path

from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE

# An element of any Silta message: the envelope's, or the person's data (namespaced or not).
_ELEMENT = re.compile(rb"<(?:\w+:)?(?:Envelope|MessageId|PersonalIdentityCode|DataSubject|CaseId|Sender)\b")


def clear_text_in_segments(data_dir: Path) -> list[str]:
    """`file: what` for each identity code or message element found in the broker's `.log` segments."""
    found: list[str] = []
    for segment in sorted(data_dir.rglob("*.log")):
        if segment.name == "kafka.log":  # the broker's own output, not a partition
            continue
        content = segment.read_bytes()
        for what in (_ELEMENT.search(content), LOOKS_LIKE_IDENTITY_CODE.search(content.decode("latin-1"))):
            if what is not None:
                found.append(f"{segment.relative_to(data_dir)}: {what.group(0)!r}")
    return found
