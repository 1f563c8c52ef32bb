"""A small asyncio TCP proxy between one client and one server, which can cut the line or slow it down.

`cut()` drops every open connection and refuses new ones (accepts and closes
them at once, as a failed link looks to TLS) until `heal()`; `latency_s`
delays every chunk forwarded either way.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`."""

    def __init__(self, port: int, target_host: str, target_port: int) -> None:
        self.port = port
        self.target = (target_host, target_port)
        self.latency_s = 0.0
        self._cut = False
        self._server: asyncio.Server | None = None
        self._ends: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        """`host:port` to give a client instead of the server's."""
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._drop_connections()

    async def cut(self) -> None:
        """Drop every connection and refuse new ones until `heal`."""
        self._cut = True
        self._drop_connections()

    def heal(self) -> None:
        """Forward again."""
        self._cut = False

    @property
    def is_cut(self) -> bool:
        """True between `cut` and `heal`."""
        return self._cut

    def _drop_connections(self) -> None:
        """Reset both ends of every forwarded connection, as a broken link looks to either side."""
        ends, self._ends = self._ends, set()
        for end in ends:
            end.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        ends = {writer, upstream_writer}
        self._ends |= ends
        try:
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        except OSError:
            pass  # reset by a cut or by either side
        finally:
            self._ends -= ends
            for end in ends:
                end.transport.abort()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy one direction until end of file, holding each chunk `latency_s` first."""
        while chunk := await source.read(65536):
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            sink.write(chunk)
            await sink.drain()
        with contextlib.suppress(OSError):
            sink.write_eof()


class ProxyGroup:
    """Several `TcpProxy`s acting as one line (one per broker of a cluster): cut, healed and slowed together."""

    def __init__(self, proxies: list[TcpProxy]) -> None:
        self.proxies = proxies

    @property
    def address(self) -> str:
        """Every proxy's `host:port`, comma-separated (a bootstrap list)."""
        return ",".join(p.address for p in self.proxies)

    @property
    def latency_s(self) -> float:
        """The delay each proxy holds every chunk."""
        return self.proxies[0].latency_s

    @latency_s.setter
    def latency_s(self, seconds: float) -> None:
        for proxy in self.proxies:
            proxy.latency_s = seconds

    async def start(self) -> None:
        """Listen on every proxy."""
        for proxy in self.proxies:
            await proxy.start()

    async def stop(self) -> None:
        """Stop every proxy."""
        for proxy in self.proxies:
            await proxy.stop()

    async def cut(self) -> None:
        """Cut every proxy's line."""
        for proxy in self.proxies:
            await proxy.cut()

    def heal(self) -> None:
        """Forward again on every proxy."""
        for proxy in self.proxies:
            proxy.heal()

    @property
    def is_cut(self) -> bool:
        """True while the lines are cut."""
        return all(p.is_cut for p in self.proxies)
