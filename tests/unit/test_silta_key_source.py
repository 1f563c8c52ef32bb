"""The reference client's view of Silta's keys: fetched again when a record names a new key, but not per record."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from adapters.municipality.keys import SiltaKeys, SiltaKeySource
from broker.crypto.keyring import KeyRing, rotate
from tests.conftest import KEY_DIR


def _publish(ring: Path, jwks_file: Path) -> None:
    jwks_file.write_text(json.dumps(KeyRing.load(ring).jwks()))


async def test_a_key_rotated_in_after_the_first_fetch_is_found_by_fetching_again(tmp_path: Path) -> None:
    """silta-signing-2 appears after the client fetched: the first record naming it makes the client fetch again."""
    ring = tmp_path / "ring"
    shutil.copytree(KEY_DIR, ring)
    published = tmp_path / "jwks.json"
    _publish(ring, published)
    source = SiltaKeySource(str(published), min_refetch_s=0)
    assert await source.verification_key("silta-signing-1") is not None
    new = rotate(ring, "signing")
    _publish(ring, published)
    assert await source.verification_key(new) is not None
    assert (await source.keys()).encryption_key.kid == "silta-encryption-1"


async def test_made_up_key_ids_cost_one_fetch_per_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty records naming made-up key ids: one fetch at start, one more for the first unknown id, then none."""
    published = tmp_path / "jwks.json"
    _publish(KEY_DIR, published)
    fetches: list[str] = []
    real_fetch = SiltaKeys.fetch

    async def counted(url: str, timeout_s: float = 10.0) -> SiltaKeys:
        fetches.append(url)
        return await real_fetch(url, timeout_s)

    monkeypatch.setattr(SiltaKeys, "fetch", counted)
    source = SiltaKeySource(str(published), min_refetch_s=0.5)
    await source.keys()
    await asyncio.sleep(0.6)
    for n in range(50):
        assert await source.verification_key(f"made-up-{n}") is None
    assert len(fetches) == 2
