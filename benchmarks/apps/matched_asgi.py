"""Header-matched ASGI ceiling; see matched.py."""

from common import bare_asgi
from matched import load

_ANSWERS = {
    rec["path"]: (
        {
            "type": "http.response.start",
            "status": rec["status"],
            "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in rec["headers"]],
        },
        {"type": "http.response.body", "body": rec["body"]},
    )
    for rec in load("asgi").values()
}


async def app(scope, receive, send):
    answer = _ANSWERS.get(scope.get("path"))
    if answer is None:  # lifespan, and the readiness probe
        return await bare_asgi(scope, receive, send)
    await send(answer[0])
    await send(answer[1])
