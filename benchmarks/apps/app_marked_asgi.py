"""The inner ASGI app marking its own 404, served directly.

Its 404 carries the header staticserve's marking adds (the default
``miss_cache_control``, taken from staticserve), last, where the marking
puts it: the same bytes as staticserve's marked 404 with no middleware's
work. One of the miss's lower bounds in bench_server_instructions.py.
"""

from common import _404_BODY, _404_START, PREFIX, bare_asgi

from staticserve.config import Config
from staticserve.http import ErrorPlans

MISS_HEADER = ErrorPlans(Config.miss_cache_control).header[0]
_MARKED_404_START = {**_404_START, "headers": [*_404_START["headers"], MISS_HEADER]}


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith(PREFIX):
        await send(_MARKED_404_START)
        await send(_404_BODY)
    else:
        await bare_asgi(scope, receive, send)
