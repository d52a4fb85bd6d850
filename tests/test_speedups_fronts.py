"""The C fronts: the adapters' call itself, in C (``_speedups.c``, speedups.py).

A hit is answered by an awaitable of the two sends (ASGI) or by
start_response and the body list (WSGI) without a Python frame; a request
that is not ours is the wrapped app's own call; everything else is the
adapter's Python ``_serve``. These tests hold the contract a server, a task
runner or an outer middleware relies on: it is an ASGI 3 app by inspection,
its answer is a coroutine, cancellation and errors reach the send being
awaited and come back out, and the pure-Python class stands where the
extension is not built.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from staticserve import StaticServe, StaticServeWSGI, speedups
from tests.conftest import StaticTree
from tests.test_speedups import _scope

pytestmark = pytest.mark.skipif(not speedups.built(), reason="staticserve._speedups is not built")

HIT = "/static/css/site.css"
REPO = Path(__file__).resolve().parent.parent


async def no_receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def loaded(static_tree: StaticTree, app: Any = None) -> StaticServe:
    served = StaticServe(app, root=static_tree.root, prefix="/static/")
    served.files.load(HIT)
    return served


def test_a_hit_is_answered_in_c_without_the_python_path(static_tree: StaticTree) -> None:
    served = loaded(static_tree)
    answer = served(_scope(HIT), no_receive, None)
    assert type(answer).__name__ == "Sending"


def test_the_answer_to_a_hit_is_a_coroutine_to_asyncio(static_tree: StaticTree) -> None:
    """asyncio.run, create_task and anyio's start_soon accept only coroutines."""
    answer = loaded(static_tree)(_scope(HIT), no_receive, None)
    assert isinstance(answer, collections.abc.Coroutine)
    assert asyncio.iscoroutine(answer)
    answer.close()


def test_a_hit_sends_start_then_body_through_a_real_event_loop(static_tree: StaticTree) -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # a send that suspends, as a server's does under back-pressure
        sent.append(message)

    asyncio.run(asyncio.wait_for(loaded(static_tree)(_scope(HIT), no_receive, send), 30))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert (b"content-encoding", b"br") in sent[0]["headers"]


class YieldingAwaitable:
    """A send's awaitable that is not a coroutine (granian's is a native object)."""

    def __init__(self, sent: list[Any], message: Any) -> None:
        self.sent = sent
        self.message = message

    def __await__(self) -> Generator[None, None, str]:
        yield None  # one round through the loop
        self.sent.append(self.message["type"])
        return "ignored"


def test_a_send_returning_a_plain_awaitable_is_driven_to_its_end(
    static_tree: StaticTree,
) -> None:
    sent: list[str] = []
    answer = loaded(static_tree)(_scope(HIT), no_receive, lambda m: YieldingAwaitable(sent, m))
    assert answer.send(None) is None  # suspended inside the first send
    assert sent == []
    assert answer.send(None) is None  # the first finished, the second suspended
    assert sent == ["http.response.start"]
    with pytest.raises(StopIteration):
        answer.send(None)
    assert sent == ["http.response.start", "http.response.body"]


def test_a_send_returning_no_awaitable_raises_a_type_error(static_tree: StaticTree) -> None:
    answer = loaded(static_tree)(_scope(HIT), no_receive, lambda m: 42)
    with pytest.raises(TypeError, match="can't be used in 'await' expression"):
        answer.send(None)


def test_an_error_in_send_comes_out_of_the_await_and_stops_the_response(
    static_tree: StaticTree,
) -> None:
    calls: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        calls.append(message["type"])
        raise ConnectionResetError("client went away")

    async def main() -> None:
        await loaded(static_tree)(_scope(HIT), no_receive, send)

    with pytest.raises(ConnectionResetError):
        asyncio.run(main())
    assert calls == ["http.response.start"]


def test_cancelling_the_task_cancels_the_send_being_awaited(static_tree: StaticTree) -> None:
    events: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        try:
            await asyncio.Event().wait()  # a client that never drains
        except asyncio.CancelledError:
            events.append("send cancelled")
            raise

    async def main() -> None:
        task = asyncio.create_task(loaded(static_tree)(_scope(HIT), no_receive, send))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 30))
    assert events == ["send cancelled"]


def test_an_exception_the_send_handles_lets_the_response_go_on(static_tree: StaticTree) -> None:
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # swallowed: the send goes on
            await asyncio.sleep(3600)
        sent.append(message["type"])

    answer = loaded(static_tree)(_scope(HIT), no_receive, send)

    async def main() -> None:
        task = asyncio.ensure_future(answer)
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(asyncio.wait_for(main(), 30))
    assert sent == ["http.response.start", "http.response.body"]


def test_throw_before_the_first_send_raises_without_sending(static_tree: StaticTree) -> None:
    sent: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    answer = loaded(static_tree)(_scope(HIT), no_receive, send)
    with pytest.raises(KeyError):
        answer.throw(KeyError("x"))
    with pytest.raises(StopIteration):
        answer.send(None)  # finished: nothing more is sent
    assert sent == []


def test_close_closes_the_send_being_awaited(static_tree: StaticTree) -> None:
    events: list[str] = []

    def send(message: dict[str, Any]) -> Any:
        def waiting() -> Generator[None, None, None]:
            try:
                yield None
            finally:
                events.append("closed")

        return YieldingGenerator(waiting())

    answer = loaded(static_tree)(_scope(HIT), no_receive, send)
    answer.send(None)
    answer.close()
    assert events == ["closed"]


class YieldingGenerator:
    def __init__(self, generator: Generator[None, None, None]) -> None:
        self.generator = generator

    def __await__(self) -> Generator[None, None, None]:
        return self.generator


def test_a_request_that_is_not_ours_is_the_wrapped_apps_own_call(static_tree: StaticTree) -> None:
    marker = object()
    served = loaded(static_tree, app=lambda scope, receive, send: marker)
    assert served(_scope("/api/users"), no_receive, None) is marker


def test_a_plain_miss_reaches_the_app_with_the_marking_send(static_tree: StaticTree) -> None:
    seen: list[Any] = []
    served = loaded(static_tree, app=lambda scope, receive, send: seen.append(send))
    real_send = object()
    served(_scope("/static/nope.css"), no_receive, real_send)
    assert type(seen[0]).__name__ == "MarkingSend"


def test_a_new_app_assigned_to_the_adapter_is_the_one_called(static_tree: StaticTree) -> None:
    served = loaded(static_tree, app=lambda scope, receive, send: "old")
    served.app = lambda scope, receive, send: "new"
    assert served(_scope("/api/users"), no_receive, None) == "new"


def test_without_the_lookup_the_call_is_the_python_path(static_tree: StaticTree) -> None:
    served = loaded(static_tree)
    served._fast = None
    answer = served(_scope(HIT), no_receive, None)
    assert asyncio.iscoroutine(answer) and answer.cr_code is StaticServe._serve.__code__
    answer.close()


def test_keyword_arguments_go_to_the_python_path(static_tree: StaticTree) -> None:
    sent: list[Any] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(loaded(static_tree)(scope=_scope(HIT), receive=no_receive, send=send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_uvicorn_inspects_the_adapter_as_an_asgi3_app(static_tree: StaticTree) -> None:
    """uvicorn's interface="auto" looks at ``app.__call__``; ASGI 2 would break every request."""
    config = uvicorn.Config(loaded(static_tree), interface="auto")
    config.load()
    assert config.interface == "asgi3"
    assert asyncio.iscoroutinefunction(loaded(static_tree).__call__)


def test_asgiref_takes_the_adapter_for_a_single_callable(static_tree: StaticTree) -> None:
    """Daphne and Channels wrap what asgiref judges an ASGI 2 double callable."""
    from asgiref.compatibility import guarantee_single_callable

    served = loaded(static_tree)
    assert guarantee_single_callable(served) is served


def test_a_subclass_overriding_call_in_python_is_called(static_tree: StaticTree) -> None:
    class Logged(StaticServe):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            send("logged")

    sent: list[Any] = []
    served = Logged(None, root=static_tree.root, prefix="/static/")
    with pytest.raises(StopIteration):
        served(_scope(HIT), no_receive, sent.append).send(None)
    assert sent == ["logged"]


HAVE_VECTORCALL = 1 << 11  # Py_TPFLAGS_HAVE_VECTORCALL


def test_after_its_first_call_a_subclass_is_called_without_an_argument_tuple(
    static_tree: StaticTree,
) -> None:
    """CPython 3.11 does not pass the front's vectorcall on to a Python
    subclass; its first call does, so that a server's call packs no tuple."""

    class Fresh(StaticServe):
        pass

    served = Fresh(None, root=static_tree.root, prefix="/static/")
    served.files.load(HIT)
    served(_scope(HIT), no_receive, None).close()
    assert Fresh.__flags__ & HAVE_VECTORCALL
    answer = served(_scope(HIT), no_receive, None)
    assert type(answer).__name__ == "Sending"
    answer.close()


@pytest.mark.parametrize("adapter", [StaticServe, StaticServeWSGI])
def test_a_call_assigned_to_the_class_after_its_first_call_is_the_one_called(
    static_tree: StaticTree, adapter: type
) -> None:
    class Fresh(adapter):  # type: ignore[misc, valid-type]
        pass

    served = Fresh(lambda *args: "app", root=static_tree.root, prefix="/static/")
    request = _scope("/api") if adapter is StaticServe else {"PATH_INFO": "/api"}
    first = served(*([request, no_receive, None] if adapter is StaticServe else [request, None]))
    assert first == "app"
    Fresh.__call__ = lambda self, *args: "replaced"
    assert served(request, None, None) == "replaced"
    assert Fresh(None, root=static_tree.root)(request, None, None) == "replaced"


def wsgi_loaded(static_tree: StaticTree, app: Any = None) -> StaticServeWSGI:
    served = StaticServeWSGI(app, root=static_tree.root, prefix="/static/")
    served.files.load(HIT)
    return served


def test_a_wsgi_hit_calls_start_response_and_returns_the_body_list(
    static_tree: StaticTree,
) -> None:
    started: list[Any] = []
    body = wsgi_loaded(static_tree)({"PATH_INFO": HIT}, lambda *a: started.append(a))
    assert started[0][0] == "200 OK"
    assert isinstance(body, list)
    assert b"".join(body) == (static_tree.root / "css" / "site.css").read_bytes()


def test_an_error_in_start_response_comes_out_of_the_wsgi_call(static_tree: StaticTree) -> None:
    def start_response(*args: Any) -> None:
        raise RuntimeError("server refused")

    with pytest.raises(RuntimeError, match="server refused"):
        wsgi_loaded(static_tree)({"PATH_INFO": HIT}, start_response)


def test_a_wsgi_request_that_is_not_ours_is_the_wrapped_apps_own_call(
    static_tree: StaticTree,
) -> None:
    body: Iterable[bytes] = iter([b"app"])
    served = wsgi_loaded(static_tree, app=lambda environ, start_response: body)
    assert served({"PATH_INFO": "/api/users"}, None) is body


@pytest.mark.parametrize(
    "switch",
    [
        'sys.modules["staticserve._speedups"] = None  # as if it were not built',
        'os.environ["STATICSERVE_NO_SPEEDUPS"] = "1"',
    ],
    ids=["not built", "turned off"],
)
def test_without_the_extension_the_adapters_are_plain_python_classes(
    tmp_path: Path, switch: str
) -> None:
    """Where no C compiler was at install time, or the C path is turned off,
    ``_serve`` is the call itself: no C front in between."""
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a.css").write_text("body{}")
    code = textwrap.dedent(
        f"""
        import asyncio, os, sys
        {switch}
        from staticserve import StaticServe, StaticServeWSGI, speedups
        assert not speedups.ENABLED and not speedups.C_FRONTS
        assert StaticServe.__call__ is StaticServe._serve
        assert StaticServeWSGI.__call__ is StaticServeWSGI._serve
        asgi = StaticServe(None, root={str(tmp_path / "static")!r})
        sent = []
        async def send(message):
            sent.append(message)
        scope = {{"type": "http", "method": "GET", "path": "/static/a.css",
                  "root_path": "", "query_string": b"", "headers": []}}
        asyncio.run(asgi(scope, None, send))
        wsgi = StaticServeWSGI(None, root={str(tmp_path / "static")!r})
        started = []
        body = wsgi({{"PATH_INFO": "/static/a.css", "REQUEST_METHOD": "GET"}},
                    lambda *a: started.append(a))
        print(sent[0]["status"], sent[1]["body"], started[0][0], b"".join(body))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200", "b'body{}'", "200", "OK", "b'body{}'"]
