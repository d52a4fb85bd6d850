"""Header-matched WSGI ceiling; see matched.py."""

from common import bare_wsgi
from matched import load

_ANSWERS = {
    rec["path"]: (rec["status_line"], [tuple(h) for h in rec["headers"]], rec["body"])
    for rec in load("wsgi").values()
}


def app(environ, start_response):
    answer = _ANSWERS.get(environ.get("PATH_INFO"))
    if answer is None:  # the readiness probe
        return bare_wsgi(environ, start_response)
    # A copy, as staticserve hands out: servers may append to the list.
    start_response(answer[0], list(answer[1]))
    return [answer[2]]
