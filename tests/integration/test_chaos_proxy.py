"""The chaos run's TCP proxy on real loopback sockets: it forwards, cuts, heals and slows a line."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from chaos.proxy import ProxyGroup, TcpProxy
from devinfra.ports import free_port

pytestmark = pytest.mark.integration


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A proxy in front of an echo server; both stopped afterwards."""
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy = TcpProxy(free_port(), "127.0.0.1", port)
    await proxy.start()
    yield proxy
    await proxy.stop()
    server.close()
    await server.wait_closed()


async def _round_trip(proxy: TcpProxy, payload: bytes = b"ping") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1024), 10)
    except ConnectionError:  # reset by the proxy; a timeout is not caught, it fails the test
        return b""
    finally:
        writer.close()


async def test_forwards_both_ways(proxy: TcpProxy) -> None:
    """What the client writes reaches the server, and the server's answer comes back."""
    assert await _round_trip(proxy) == b"ping"


async def test_a_cut_drops_open_connections_and_refuses_new_ones_until_healed(proxy: TcpProxy) -> None:
    """An open connection ends at the cut, a new one gets nothing through; after `heal` all works again."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"before")
    assert await asyncio.wait_for(reader.read(1024), 10) == b"before"
    await proxy.cut()
    with contextlib.suppress(ConnectionError):  # a reset, or the end of the stream
        assert await asyncio.wait_for(reader.read(1024), 10) == b""
    writer.close()
    assert await _round_trip(proxy) == b""
    proxy.heal()
    assert await _round_trip(proxy) == b"ping"


async def test_latency_holds_every_chunk(proxy: TcpProxy) -> None:
    """With 0.2 s of latency a round trip (one chunk each way) takes at least 0.4 s."""
    proxy.latency_s = 0.2
    started = time.monotonic()
    assert await _round_trip(proxy) == b"ping"
    assert time.monotonic() - started >= 0.4


async def test_a_proxy_group_cuts_heals_and_slows_every_line_together(proxy: TcpProxy) -> None:
    """The cluster's proxies as one line: a cut refuses every proxy, heal reopens all, latency reaches each."""
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    second = TcpProxy(free_port(), "127.0.0.1", server.sockets[0].getsockname()[1])
    group = ProxyGroup([proxy, second])
    await second.start()
    try:
        assert group.address == f"{proxy.address},{second.address}"
        await group.cut()
        assert group.is_cut
        assert [await _round_trip(p) for p in (proxy, second)] == [b"", b""]
        group.heal()
        group.latency_s = 0.2
        assert (proxy.latency_s, second.latency_s) == (0.2, 0.2)
        assert [await _round_trip(p) for p in (proxy, second)] == [b"ping", b"ping"]
    finally:
        await second.stop()
        server.close()
        await server.wait_closed()
