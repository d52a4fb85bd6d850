"""Header-matched ceiling (diagnostic, not in run.py's table).

Answers every request with the exact status line, header list and body that
staticserve sends for ``css/site.css`` with br (7 headers, 641 bytes), from
constants: the server's own cost of a response that shape. Comparing
bare -> mimic -> staticserve splits the gap to the bare ceiling into "the
server's per-header cost" and "staticserve's Python". See docs/benchmarks.md.
"""

from common import ROOT

BODY = open(ROOT + "/css/site.css.br", "rb").read()  # noqa: SIM115
HEADERS = [
    (b"content-type", b"text/css; charset=utf-8"),
    (b"cache-control", b"public, max-age=60"),
    (b"accept-ranges", b"bytes"),
    (b"vary", b"Accept-Encoding"),
    (b"etag", b'"18ea45ad61f8ed26-800-br"'),
    (b"last-modified", b"Sun, 22 Nov 2026 05:06:52 GMT"),
    (b"content-encoding", b"br"),
    (b"content-length", str(len(BODY)).encode()),
]
_START = {"type": "http.response.start", "status": 200, "headers": HEADERS}
_BODY = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):
    if scope["type"] == "http":
        await send(_START)
        await send(_BODY)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
