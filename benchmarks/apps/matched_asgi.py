"""Header-matched ASGI ceiling; see matched.py."""

from common import bare_asgi
from matched import PATH_PREFIX, load

_ANSWERS = {
    PATH_PREFIX + key: (
        {
            "type": "http.response.start",
            "status": rec["status"],
            "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in rec["headers"]],
        },
        {"type": "http.response.body", "body": rec["body"]},
    )
    for key, rec in load("asgi").items()
}


async def app(scope, receive, send):
    answer = _ANSWERS.get(scope.get("path"))
    if answer is None:  # lifespan, and the readiness probe
        return await bare_asgi(scope, receive, send)
    await send(answer[0])
    await send(answer[1])
