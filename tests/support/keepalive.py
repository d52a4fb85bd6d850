"""An httpx transport that knows which connection each request went out on.

HTTP/1.1 keep-alive has an unavoidable race: a server may close an idle
persistent connection (its keep-alive timeout) at the moment the client
sends the next request on it. The client then sees the connection end
without a single byte of response. RFC 9112 §9.3.1 lets a client retry an
idempotent request on a new connection in exactly that case, and browsers do.

A request the server read and then dropped looks the same from the client's
side *unless* one knows whether the connection was new or reused: on a new
connection there is no idle timeout to race with, so an empty answer there is
a real failure. :class:`ReuseAwareTransport` records, for every request, the
connection's number of earlier requests and the bytes of response received,
so a load test can retry only the keep-alive race and count those retries
separately from errors.
"""

from __future__ import annotations

import contextvars
import itertools
import time
import typing
from dataclasses import dataclass

import httpcore
import httpx


@dataclass
class Attempt:
    """What the transport saw of one request (filled in while it runs)."""

    connection: int = -1  # serial number of the connection it was written to
    earlier_requests: int = -1  # requests sent on that connection before this one
    idle_seconds: float = 0.0  # since the connection last received bytes (report only)
    received: int = 0  # bytes of response received for this request
    local_port: int = 0  # to find the connection in a server's trace log

    @property
    def reused(self) -> bool:
        return self.earlier_requests > 0


# Set by the caller before each request: each asyncio task has its own context,
# and httpcore writes the request from the caller's task, so the stream below
# finds the right record without any shared state.
CURRENT: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "keepalive_attempt", default=None
)
_serial = itertools.count(1)


class _CountingStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self.serial = next(_serial)
        address = stream.get_extra_info("client_addr")
        self.local_port = address[1] if address else 0
        self.requests = 0
        self.last_read = time.monotonic()
        self._attempt: Attempt | None = None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        attempt = CURRENT.get()
        if attempt is not None and attempt is not self._attempt and buffer:
            # The first write of a request (its head): bind it to this connection.
            self._attempt = attempt
            attempt.connection = self.serial
            attempt.earlier_requests = self.requests
            attempt.local_port = self.local_port
            attempt.idle_seconds = time.monotonic() - self.last_read
            self.requests += 1
        await self._stream.write(buffer, timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._stream.read(max_bytes, timeout)
        self.last_read = time.monotonic()
        if self._attempt is not None:
            self._attempt.received += len(data)
        return data

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        return await self._stream.start_tls(*args, **kwargs)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _CountingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        from httpcore._backends.auto import AutoBackend  # httpcore's own default

        self._backend = AutoBackend()
        self.connections = 0

    async def connect_tcp(self, *args: typing.Any, **kwargs: typing.Any) -> _CountingStream:
        self.connections += 1
        return _CountingStream(await self._backend.connect_tcp(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class ReuseAwareTransport(httpx.AsyncBaseTransport):
    """httpx's HTTP/1.1 transport, with per-request connection bookkeeping.

    httpcore's exceptions are passed through unmapped, so a caller can tell
    ``RemoteProtocolError`` (end of stream) from ``ReadError`` (reset).
    """

    def __init__(self, max_connections: int, max_keepalive_connections: int) -> None:
        self.backend = _CountingBackend()
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=5.0,  # httpx's default
            network_backend=self.backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        if CURRENT.get() is None:  # every request is counted on its connection
            CURRENT.set(Attempt())
        response = await self._pool.handle_async_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        body = b"".join([chunk async for chunk in response.aiter_stream()])
        await response.aclose()
        return httpx.Response(status_code=response.status, headers=response.headers, content=body)

    async def aclose(self) -> None:
        await self._pool.aclose()


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def keepalive_race(
    exc: BaseException, attempt: Attempt, idle_new_connections_closed: bool = False
) -> str | None:
    """The kind of keep-alive race ``exc`` is, or None if it is a real failure.

    Only a request that got *no byte* of response, on a *reused* connection,
    is the race RFC 9112 §9.3.1 describes. It ends in one of two ways: the
    server's close arrived first ("closed": end of stream), or the request's
    bytes reached a socket the server then closed unread, which the kernel
    answers with a reset ("reset").

    ``idle_new_connections_closed``: the server also times out a *new*
    connection that has not sent its request yet (gunicorn's gthread worker
    does, after its keep-alive time); then the same race on a connection's
    first request is one too ("... before its first request").
    """
    if attempt.received or not (attempt.reused or idle_new_connections_closed):
        return None
    kind = _race_kind(exc)
    if kind is not None and not attempt.reused:
        kind += " before its first request"
    return kind


def _race_kind(exc: BaseException) -> str | None:
    if isinstance(exc, httpcore.RemoteProtocolError) and "without sending a response" in str(exc):
        return "closed"
    if isinstance(exc, (httpcore.ReadError, httpcore.WriteError)):
        # The connection broke before any byte of answer: a reset, or a write
        # into a socket the server had closed (anyio reports either as a
        # BrokenResourceError; the OS error under it is named in the report).
        causes = [type(cause).__name__ for cause in _causes(exc)[1:]]
        return "reset (" + " <- ".join(causes or ["no cause"]) + ")"
    return None
