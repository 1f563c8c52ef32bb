"""The token-verification keys, read again without a restart: on a TTL and on an unknown key id.

The keys come from the JWKS file (`SILTA_AUTH_JWKS_FILE`) or, when
`SILTA_AUTH_JWKS_URL` is set, from the identity provider over HTTPS. They
are read again

- when the set is older than `ttl_s` (so a key the provider removed stops
  verifying within that time), and
- when a token names a key id the set does not have (so a key the provider
  added verifies at once), but no more than once per `min_interval_s`: a
  flood of tokens with made-up key ids costs one read per interval.

A read that fails (the provider down, a half-written file, a document
without a usable key) keeps the last good set and is logged; the next try
waits out `min_interval_s` too. No request ever waits on more than one read,
and most wait on none: reading is `refresh_for`, awaited before the
(synchronous) check of a signature; concurrent callers share one read.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
import structlog

from broker.settings import Settings

log = structlog.get_logger(__name__)
_MAX_JWKS_BYTES = 1024 * 1024

Keys = Mapping[str | None, jwt.PyJWK]


class JwksLoader(Protocol):
    """Where a JWKS document comes from."""

    def describe(self) -> str:
        """The file or URL, for the log."""
        ...

    async def load(self) -> dict[str, Any]:
        """The current document; raises on any failure."""
        ...


class FileJwks:
    """A JWKS file on local disk (read whole; small)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        """The file's path."""
        return str(self.path)

    async def load(self) -> dict[str, Any]:
        """The file's document."""
        document: dict[str, Any] = json.loads(await asyncio.to_thread(self.path.read_text))
        return document


class UrlJwks:
    """A JWKS document over HTTPS, fetched with a timeout; redirects are not followed."""

    def __init__(self, url: str, timeout_s: float, ca_file: Path | None = None) -> None:
        self.url = url
        self._timeout = httpx.Timeout(timeout_s)
        self._verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True

    def describe(self) -> str:
        """The URL."""
        return self.url

    async def load(self) -> dict[str, Any]:
        """The document the URL answers with (a 2xx JSON object of at most 1 MiB)."""
        async with httpx.AsyncClient(timeout=self._timeout, verify=self._verify, follow_redirects=False) as client:
            answer = await client.get(self.url, headers={"Accept": "application/json"})
        answer.raise_for_status()
        if len(answer.content) > _MAX_JWKS_BYTES:
            raise ValueError(f"the JWKS is larger than {_MAX_JWKS_BYTES} bytes")
        document: dict[str, Any] = answer.json()
        return document


def parse_keys(document: object) -> dict[str | None, jwt.PyJWK]:
    """The usable keys of a JWKS document by key id; `ValueError` or `PyJWTError` if it has none."""
    if not isinstance(document, dict):
        raise ValueError("a JWKS document is a JSON object")
    return {key.key_id: key for key in jwt.PyJWKSet.from_dict(document).keys}


class JwksSource:
    """The live set of trusted public keys, and when to read it again."""

    def __init__(
        self,
        loader: JwksLoader | None,
        *,
        ttl_s: float,
        min_interval_s: float,
        initial: dict[str, Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader, self._ttl_s, self._min_interval_s, self._monotonic = loader, ttl_s, min_interval_s, monotonic
        self._keys: dict[str | None, jwt.PyJWK] = parse_keys(initial) if initial is not None else {}
        self._fingerprint = _fingerprint(initial)
        self._loaded_at = monotonic() if initial is not None else float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self.generation = 0
        """Counts the changes of the set: whoever caches a verification drops it when this moves."""
        self.reads = 0
        """How often the source was read (for tests and the curious)."""

    @classmethod
    def fixed(cls, jwks: dict[str, Any]) -> JwksSource:
        """A set that is never read again (for tests and tools)."""
        return cls(None, ttl_s=float("inf"), min_interval_s=float("inf"), initial=jwks)

    @property
    def keys(self) -> Keys:
        """The keys as last read, by key id; no I/O."""
        return self._keys

    async def refresh_for(self, kid: str | None) -> None:
        """Read the set again first if it is past its TTL or lacks `kid`, unless a read was tried too recently.

        A caller whose key id is missing while another's read is under way waits for that read (at a cold
        start with a URL, every first caller does); one whose key is there goes on with the set as it is.
        """
        if self._due(kid):
            async with self._lock:
                if self._due(kid):  # another caller may have read it while this one waited
                    await self._read()
        elif self._lock.locked() and kid is not None and kid not in self._keys:
            async with self._lock:
                pass

    def _due(self, kid: str | None) -> bool:
        if self._loader is None:
            return False
        now = self._monotonic()
        if now - self._attempted_at < self._min_interval_s:
            return False
        return now - self._loaded_at >= self._ttl_s or (kid is not None and kid not in self._keys)

    async def _read(self) -> None:
        loader = self._loader
        if loader is None:
            return
        self._attempted_at = self._monotonic()
        self.reads += 1
        try:
            document = await loader.load()
            keys = parse_keys(document)
        except (OSError, ValueError, httpx.HTTPError, jwt.PyJWTError) as error:
            log.warning("jwks_read_failed", source=loader.describe(), error=str(error)[:200], kept=len(self._keys))
            return
        fingerprint = _fingerprint(document)
        if fingerprint != self._fingerprint:
            self.generation += 1
        self._keys, self._fingerprint, self._loaded_at = keys, fingerprint, self._monotonic()
        log.info("jwks_read", source=loader.describe(), keys=len(keys), generation=self.generation)


def _fingerprint(document: dict[str, Any] | None) -> str:
    """A comparable form of a document's keys, to notice one added, removed or replaced under the same id."""
    return "" if document is None else json.dumps(document.get("keys"), sort_keys=True)


def token_keys(settings: Settings) -> JwksSource:
    """The source the settings name: the URL if one is set (read at the first token), else the file (read now)."""
    ttl_s, min_interval_s = settings.auth_jwks_ttl_s, settings.auth_jwks_min_reread_s
    if settings.auth_jwks_url:
        loader = UrlJwks(settings.auth_jwks_url, settings.auth_jwks_timeout_s, settings.auth_jwks_ca_file)
        return JwksSource(loader, ttl_s=ttl_s, min_interval_s=min_interval_s)
    path = settings.auth_jwks_file
    if not path.exists():
        raise FileNotFoundError(f"JWKS file {path} not found; run `silta keys init` for a local run")
    initial = json.loads(path.read_text())
    return JwksSource(FileJwks(path), ttl_s=ttl_s, min_interval_s=min_interval_s, initial=initial)
