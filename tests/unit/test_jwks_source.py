"""Token keys read again without a restart: a new key verifies, a removed one stops, a flood reads once.

Time is a clock the test moves (no sleeping); the URL source is a small HTTPS
server on 127.0.0.1 with a throwaway CA.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from broker.crypto.assertions import AssertionVerifier, mint_guardian_assertion
from broker.crypto.jwks import FileJwks, JwksSource, UrlJwks, token_keys
from broker.crypto.tokens import TokenVerifier, mint_token, public_jwks
from broker.domain.clients import resolve_clients
from broker.domain.errors import ErrorCode, Rejection
from broker.settings import Settings
from tests.conftest import AUDIENCE, CLIENTS, ISSUER, KELA
from tests.support.clients import CLIENT_ROLES
from tests.support.tls import make_ca_and_server_certificate

TTL_S, MIN_INTERVAL_S = 300.0, 10.0
OLD, NEW = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The time the test has set."""
        return self.now


def _jwks(*keys: tuple[Ed25519PrivateKey, str]) -> dict[str, Any]:
    return {"keys": [public_jwks(key, kid)["keys"][0] for key, kid in keys]}


def _publish(path: Path, document: dict[str, Any] | str) -> None:
    """What the identity provider's deployment does: write the JWKS file anew."""
    path.write_text(document if isinstance(document, str) else json.dumps(document))


def _bearer(key: Ed25519PrivateKey, kid: str) -> str:
    return f"Bearer {mint_token(key, 'kela', ISSUER, AUDIENCE, key_id=kid)}"


def _verifier(source: JwksSource) -> TokenVerifier:
    return TokenVerifier(source, ISSUER, AUDIENCE, resolve_clients(CLIENT_ROLES, CLIENTS))


async def _refused(verifier: TokenVerifier, header: str) -> ErrorCode:
    with pytest.raises(Rejection) as caught:
        await verifier.verify_live(header)
    return caught.value.code


@pytest.fixture
def ticks() -> Ticks:
    """The clock of this test's source."""
    return Ticks()


@pytest.fixture
def jwks_path(tmp_path: Path) -> Path:
    """A JWKS file that trusts the old key alone."""
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(_jwks((OLD, "idp-1"))))
    return path


@pytest.fixture
def source(jwks_path: Path, ticks: Ticks) -> JwksSource:
    """The file source as the service builds it, on the test's clock."""
    initial = json.loads(jwks_path.read_text())
    return JwksSource(FileJwks(jwks_path), ttl_s=TTL_S, min_interval_s=MIN_INTERVAL_S, initial=initial, monotonic=ticks)


async def test_a_key_added_to_the_file_after_start_verifies_without_a_restart(
    jwks_path: Path, source: JwksSource
) -> None:
    """The provider adds a key; the first token naming it makes the file be read again, and it is accepted."""
    verifier = _verifier(source)
    assert (await verifier.verify_live(_bearer(OLD, "idp-1"))).party == "kela"
    assert source.reads == 0  # a known key id and a fresh set: nothing read
    _publish(jwks_path, _jwks((OLD, "idp-1"), (NEW, "idp-2")))
    assert (await verifier.verify_live(_bearer(NEW, "idp-2"))).party == "kela"
    assert source.reads == 1


async def test_guardian_assertions_see_the_new_key_too(jwks_path: Path, source: JwksSource) -> None:
    """The portal's assertions are checked against the same source: a new portal key verifies at once."""
    verifier = AssertionVerifier(source, "guardian-portal", "silta-guardian")
    _publish(jwks_path, _jwks((OLD, "idp-1"), (NEW, "portal-2")))
    assertion = mint_guardian_assertion(NEW, "edv-1", "kela", "guardian-portal", "silta-guardian", key_id="portal-2")
    assert (await verifier.verify_live(assertion, KELA)).guardian_id == "edv-1"


async def test_an_unknown_kid_flood_reads_the_file_at_most_once_per_interval(source: JwksSource, ticks: Ticks) -> None:
    """200 tokens with made-up key ids at once: all refused, one read; the next flood within the interval, none."""
    verifier = _verifier(source)
    flood = [_bearer(OLD, f"made-up-{uuid.uuid4()}") for _ in range(200)]
    codes = await asyncio.gather(*(_refused(verifier, header) for header in flood))
    assert set(codes) == {ErrorCode.TOKEN_INVALID}
    assert source.reads == 1
    ticks.now += MIN_INTERVAL_S - 0.1
    await asyncio.gather(*(_refused(verifier, header) for header in flood))
    assert source.reads == 1
    ticks.now += 0.2
    await asyncio.gather(*(_refused(verifier, header) for header in flood))
    assert source.reads == 2


async def test_a_removed_key_stops_verifying_after_the_ttl(jwks_path: Path, source: JwksSource, ticks: Ticks) -> None:
    """Until the TTL the set is not read (a verified token stays good); after it the removed key's tokens fail."""
    verifier = _verifier(source)
    header = _bearer(OLD, "idp-1")
    await verifier.verify_live(header)
    _publish(jwks_path, _jwks((NEW, "idp-2")))
    ticks.now += TTL_S - 1
    assert (await verifier.verify_live(header)).party == "kela"
    ticks.now += 1
    assert await _refused(verifier, header) == ErrorCode.TOKEN_INVALID
    assert (await verifier.verify_live(_bearer(NEW, "idp-2"))).party == "kela"
    assert source.reads == 1


async def test_a_spoiled_file_keeps_the_last_good_keys(jwks_path: Path, source: JwksSource, ticks: Ticks) -> None:
    """Past the TTL the file is half-written: the old keys still verify, and the next try waits out the interval."""
    verifier = _verifier(source)
    _publish(jwks_path, '{"keys": [')
    ticks.now += TTL_S
    assert (await verifier.verify_live(_bearer(OLD, "idp-1"))).party == "kela"
    assert (await verifier.verify_live(_bearer(OLD, "idp-1"))).party == "kela"
    assert source.reads == 1


class JwksServer:
    """An HTTPS server on 127.0.0.1 answering with `document`, or `status` if set, or not at all if `hang`."""

    def __init__(self, folder: Path) -> None:
        self.document: dict[str, Any] = _jwks((OLD, "idp-1"))
        self.status: int | None = None
        self.hang = threading.Event()
        self.release = threading.Event()
        self.requests = 0
        self.ca_file, cert_file, key_file = make_ca_and_server_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                """Answer as the test has set."""
                server.requests += 1
                if server.hang.is_set():
                    server.release.wait(10)
                    return
                body = json.dumps(server.document).encode()
                self.send_response(server.status or 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler

    def __enter__(self) -> JwksServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[JwksServer]:
    """The identity provider's JWKS endpoint, for this test only."""
    with JwksServer(tmp_path) as running:
        yield running


async def test_the_url_source_fetches_on_the_first_token_and_on_a_new_key_id(
    server: JwksServer, tmp_path: Path, ticks: Ticks
) -> None:
    """Over HTTPS trusting the test CA: one fetch for the first tokens at once, none after, one for a new key id."""
    settings = Settings(auth_jwks_url=server.url, auth_jwks_ca_file=server.ca_file, auth_jwks_file=tmp_path / "none")
    wired = token_keys(settings)  # the URL wins over the (missing) file, and nothing is fetched at start
    assert (dict(wired.keys), server.requests) == ({}, 0)
    await wired.refresh_for(None)
    assert (set(wired.keys), server.requests) == ({"idp-1"}, 1)
    loader = UrlJwks(server.url, 2, server.ca_file)
    verifier = _verifier(JwksSource(loader, ttl_s=TTL_S, min_interval_s=MIN_INTERVAL_S, monotonic=ticks))
    first_callers = [verifier.verify_live(_bearer(OLD, "idp-1")) for _ in range(20)]  # all wait for one fetch
    assert {caller.party for caller in await asyncio.gather(*first_callers)} == {"kela"}
    assert (await verifier.verify_live(_bearer(OLD, "idp-1"))).party == "kela"
    assert server.requests == 2
    server.document = _jwks((OLD, "idp-1"), (NEW, "idp-2"))
    ticks.now += MIN_INTERVAL_S
    assert (await verifier.verify_live(_bearer(NEW, "idp-2"))).party == "kela"
    assert server.requests == 3


async def test_the_url_source_keeps_the_last_good_keys_when_a_fetch_fails(server: JwksServer, ticks: Ticks) -> None:
    """An error status and then a provider that never answers (the timeout): the old keys go on verifying."""
    loader = UrlJwks(server.url, 0.3, server.ca_file)
    verifier = _verifier(JwksSource(loader, ttl_s=TTL_S, min_interval_s=MIN_INTERVAL_S, monotonic=ticks))
    await verifier.verify_live(_bearer(OLD, "idp-1"))
    server.status = 503
    ticks.now += TTL_S
    assert (await verifier.verify_live(_bearer(OLD, "idp-1"))).party == "kela"
    server.hang.set()
    ticks.now += MIN_INTERVAL_S
    assert (await verifier.verify_live(_bearer(OLD, "idp-1"))).party == "kela"
    assert server.requests == 3


def test_a_jwks_url_must_be_https() -> None:
    """Plain HTTP for the token keys is refused at start: anyone on the path could hand Silta their own keys."""
    with pytest.raises(ValidationError, match="auth_jwks_url"):
        Settings(auth_jwks_url="http://idp.example/jwks.json")
