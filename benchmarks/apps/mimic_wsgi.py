"""Header-matched WSGI ceiling (diagnostic); see mimic_asgi.py."""

from mimic_asgi import BODY, HEADERS

_STR_HEADERS = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in HEADERS]


def app(environ, start_response):
    start_response("200 OK", list(_STR_HEADERS))
    return [BODY]
