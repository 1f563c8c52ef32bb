"""The segment scan that checks a broker's disk holds nothing in clear: it must find what is there."""

from __future__ import annotations

from pathlib import Path

from devinfra.segments import clear_text_in_segments


def test_the_scan_finds_an_element_and_an_identity_code_and_passes_ciphertext(tmp_path: Path) -> None:
    """A segment with a plain message is reported twice (element, code); a sealed one and the broker log are not."""
    topic = tmp_path / "logs" / "silta.to.hva-08.v1-0"
    topic.mkdir(parents=True)
    (topic / "00000000000000000000.log").write_bytes(b"\x00\x01<env:Envelope>...<PersonalIdentityCode>010594Y9032")
    (topic / "00000000000000000042.log").write_bytes(b"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.AAAA.BBBB")
    (tmp_path / "kafka.log").write_text("<Envelope> 010594Y9032 in the broker's own output")
    found = clear_text_in_segments(tmp_path)
    assert len(found) == 2
    assert all(line.startswith("logs/silta.to.hva-08.v1-0/00000000000000000000.log") for line in found)
