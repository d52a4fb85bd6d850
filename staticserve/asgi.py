"""ASGI adapter: turns a scope into a plan request and the plan into messages.

Send strategy, fastest first:

* a body held in memory goes out in one ``http.response.body`` message;
* a whole file goes to the server by path when it advertises the
  ``http.response.pathsend`` extension (granian), so no byte passes through
  Python;
* anything else is read in ``chunk_size`` pieces in the default thread pool,
  off the event loop, and streamed; a client that goes away stops the stream.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from . import speedups
from .files import BodyReader, FileChanged
from .http import COMPLEX_HEADERS, REQUEST_HEADERS, marks_miss, respond_plain
from .loads import ThreadedLoads
from .plan import FileSlice, Plan
from .service import REPLAN_ATTEMPTS, StaticFiles

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("staticserve")

_WANTED = {name.encode("latin-1"): name for name in REQUEST_HEADERS}
_RANGE, _IF_MATCH, _IF_UNMODIFIED_SINCE = (name.encode("latin-1") for name in COMPLEX_HEADERS)
_PATHSEND = "http.response.pathsend"


def route_path(scope: Scope) -> str:
    """The request path below ``root_path`` (ASGI puts the mount point in both)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        if len(path) == len(root_path):
            return "/"
        if path[len(root_path)] == "/":
            return path[len(root_path) :]
    return path


class StaticServe(speedups.ASGIFront):
    """ASGI middleware serving static files in front of ``app``.

    ``StaticServe(app, root="static", prefix="/static/", **options)``; with
    ``app=None`` it is a standalone app answering 404 to everything else.
    Options are those of :class:`staticserve.Config`.
    """

    app: ASGIApp | None  # held by the C front where it is built (speedups.py)

    def __init__(
        self,
        app: ASGIApp | None = None,
        root: str | os.PathLike[str] | None = None,
        prefix: str = "/static/",
        *,
        files: StaticFiles | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self.files = files if files is not None else StaticFiles(root, prefix, **options)
        self._loads = ThreadedLoads(self.files)
        self._mount_warned = False
        # The C fast path the front asks first (staticserve.speedups), or None:
        # then the call is all Python.
        self._fast = self.files.fast_lookup()
        if speedups.C_FRONTS:
            # What servers inspect to tell ASGI 3 from ASGI 2 (uvicorn's
            # interface="auto", hypercorn): the call itself is the type's, in C.
            self.__call__ = self._serve  # type: ignore[method-assign]

    def add_files(self, root: str | os.PathLike[str], prefix: str = "/static/") -> None:
        """Serve another directory under another URL prefix."""
        self.files.add_files(root, prefix)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The Python path: all of the call where ``_speedups`` is not built or
        turned off, else what the C front hands on (see speedups.py)."""
        if scope["type"] != "http":
            if self.app is not None:
                return await self.app(scope, receive, send)
            return await _standalone_other(scope, receive, send)
        path = route_path(scope) if scope.get("root_path") else scope["path"]
        files = self.files
        if path.startswith(files.prefixes):
            # The fast path, for the usual request (a fetch or a browser's
            # revalidation of a loaded file, or a miss): the index first, so
            # that a miss reads no header; then every header name once (a dict
            # built in C; a repeated name goes to the general path, which
            # joins the values) and none that only the general path handles.
            entry = files.find(path)
            if entry is not None:
                plan: Plan | Literal[False] = False
                raw = scope["headers"]
                if entry is not False and raw.__class__ is list:
                    names = dict(raw)
                    if (
                        len(names) == len(raw)
                        and _RANGE not in names
                        and _IF_MATCH not in names
                        and _IF_UNMODIFIED_SINCE not in names
                    ):
                        tag = names.get(b"if-none-match")
                        plan = respond_plain(
                            entry,
                            scope["method"],
                            names.get(b"accept-encoding"),
                            None if tag is None else tag.decode("latin-1"),
                            names.get(b"if-modified-since"),
                        )
                        if plan is not False and plan.body.__class__ is bytes:
                            await send(
                                {
                                    "type": "http.response.start",
                                    "status": plan.status,
                                    "headers": [*plan.headers],  # as in _start
                                }
                            )
                            await send({"type": "http.response.body", "body": plan.body})
                            return
                if await self._general(plan, path, scope, receive, send):
                    return
            elif files.fallbacks:
                url = files.fallback_url(path, scope["method"])
                if url is not None and await self._fallback(url, path, scope, receive, send):
                    return
            if self.app is not None and path.startswith(files.miss_prefixes):
                # A miss under the static prefix: the app answers it, but a
                # cache must not keep its error any more than ours.
                return await self.app(scope, receive, _marking_send(send, files.errors.header[0]))
        if self.app is not None:
            return await self.app(scope, receive, send)
        if not self._mount_warned and scope.get("root_path"):
            self._mount_warned = _warn_if_mounted_over_prefix(scope["root_path"], path, files)
        await _send_plan_bytes(files.errors.not_found, send)

    if not speedups.C_FRONTS:
        __call__ = _serve  # no C front to inherit the call from

    async def _general(
        self, plan: Plan | Literal[False], path: str, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Everything but the fast path: ``plan`` is the fast path's answer (a
        file-backed plan), or False for the general :meth:`StaticFiles.plan`.
        False (nothing sent) when no file answers: the caller hands the miss on."""
        files = self.files
        method = scope["method"]
        headers: dict[str, str] | None = None
        query = ""
        if plan is False:
            headers = _request_headers(scope["headers"])
            query = scope.get("query_string", b"").decode("latin-1")
            if files.needs_load(path):
                await self._loads.load(path)
            current = files.plan(path, method, headers, query)
        else:
            current = plan
        attempts = 0
        while current is not None:
            if current.body.__class__ is bytes:
                await _send_plan_bytes(current, send)
                return True
            if await self._send_file(current, scope, receive, send):
                return True
            attempts += 1
            if attempts >= REPLAN_ATTEMPTS:
                break
            if headers is None:
                headers = _request_headers(scope["headers"])
                query = scope.get("query_string", b"").decode("latin-1")
            # A changed file is loaded again (hashed, without a manifest): off the loop.
            current = await asyncio.get_running_loop().run_in_executor(
                None, files.replan, path, method, headers, query
            )
        if files.fallbacks:
            url = files.fallback_url(path, method)
            if url is not None and await self._fallback(url, path, scope, receive, send):
                return True
        return False

    async def _fallback(
        self, url: str, path: str, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """A navigation no file answers: the app first; on its 404, the fallback file.

        False (nothing sent) when the request does not accept HTML.
        """
        headers = _request_headers(scope["headers"])
        accept = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
        method = scope["method"]
        plan = self.files.plan_fallback(url, method, headers, accept)
        if plan is None:
            return False  # not a request for HTML: the usual miss handling
        files = self.files
        if self.app is not None:
            out = send
            if path.startswith(files.miss_prefixes):
                out = _marking_send(send, files.errors.header[0])
            if not await _app_answered_404(self.app, scope, receive, out):
                return True
        if plan.body.__class__ is bytes:
            await _send_plan_bytes(plan, send)
        elif not await self._send_file(plan, scope, receive, send):
            await _send_plan_bytes(files.errors.not_found, send)
        return True

    async def _send_file(self, plan: Plan, scope: Scope, receive: Receive, send: Send) -> bool:
        """Send a file-backed plan; False (nothing sent) if the file changed."""
        body = plan.body
        if (
            body.__class__ is FileSlice
            and body.is_whole_file
            and _PATHSEND in scope.get("extensions", ())
        ):
            if not body.variant.matches_disk():
                return False
            await send(_start(plan))
            await send({"type": _PATHSEND, "path": body.variant.path})
            return True

        reader = BodyReader(body, self.files.config.chunk_size)
        if not reader.open():
            return False
        loop = asyncio.get_running_loop()
        gone = asyncio.Event()
        watcher = loop.create_task(_watch_disconnect(receive, gone))
        try:
            await send(_start(plan))
            chunk = await loop.run_in_executor(None, reader.read)
            while not gone.is_set():
                following = await loop.run_in_executor(None, reader.read) if chunk else b""
                more = bool(following)
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break
                chunk = following
        except FileChanged as exc:
            # Headers promised more bytes than the file now has: the only
            # honest move left is to cut the response short.
            logger.warning("staticserve: %s shrank while being sent; response cut short", exc)
        except OSError:
            pass  # the client went away (servers raise OSError subclasses for that)
        finally:
            watcher.cancel()
            reader.close()
        return True


def _request_headers(raw: Any) -> dict[str, str]:
    """The request headers :func:`~staticserve.http.respond` reads, repeats joined."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = _WANTED.get(name)
        if key is not None:
            text = value.decode("latin-1")
            headers[key] = headers[key] + ", " + text if key in headers else text
    return headers


def _marking_send(send: Send, header: tuple[bytes, bytes]) -> Send:
    """``send`` adding ``header`` (the miss Cache-Control) to an error start without one."""

    # A plain function returning send's awaitable: one coroutine less per
    # message than an ``async def`` wrapper (this runs on every miss).
    def marked(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            headers = message.get("headers") or ()
            if marks_miss(message.get("status", 200), [name for name, _ in headers]):
                return send({**message, "headers": [*headers, header]})
        return send(message)

    return marked


async def _app_answered_404(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> bool:
    """Run ``app``; if it answers 404, swallow that response and return True.

    Anything else goes out as the app sent it, so the SPA fallback never
    shadows a route of the app (an API, a Django view): it only replaces "no
    such page".
    """
    swallowed = False

    async def guarded(message: Message) -> None:
        nonlocal swallowed
        if message["type"] == "http.response.start":
            if message["status"] == 404:
                swallowed = True
                return
        elif swallowed:
            return
        await send(message)

    await app(scope, receive, guarded)
    return swallowed


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


def _warn_if_mounted_over_prefix(root_path: str, path: str, files: StaticFiles) -> bool:
    """Log (and return True) when a standalone StaticServe mounted at
    ``root_path`` (Starlette's ``Mount``, FastAPI's ``app.mount``) misses a URL
    only because the mount point repeats its prefix: mounted at ``/static``
    with the default ``prefix="/static/"``, it serves ``/static/static/...``."""
    url = root_path + path
    if path.startswith(files.prefixes) or not url.startswith(files.prefixes):
        return False
    prefix = next(p for p in files.prefixes if url.startswith(p))
    logger.warning(
        "staticserve: %s is a miss: StaticServe is mounted at %s, where it looks %s up "
        "under prefix=%r and so serves %s...; to serve the mount point itself, pass "
        "prefix='/' (StaticServe(None, root=..., prefix='/')), or wrap the app instead "
        "of mounting StaticServe",
        url, root_path, path, prefix, root_path + prefix,
    )  # fmt: skip
    return True


def _start(plan: Plan) -> Message:
    """``plan``'s response start, with a header list of its own: a middleware
    outside may change it in place (Starlette's GZipMiddleware and
    CORSMiddleware do), and the plan's headers serve every request."""
    return {"type": "http.response.start", "status": plan.status, "headers": [*plan.headers]}


async def _send_plan_bytes(plan: Plan, send: Send) -> None:
    await send(_start(plan))
    await send({"type": "http.response.body", "body": plan.body})


async def _standalone_other(scope: Scope, receive: Receive, send: Send) -> None:
    """Lifespan and websocket scopes when there is no app to hand them to."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1000})
