"""staticserve's ASGI middleware with the miss marking off (``miss_cache_control=None``).

The app's 404 then goes out as the peers send it, unchanged: the like-for-like
reading of the miss scenario against ServeStatic.
"""

from common import PREFIX, ROOT, bare_asgi

from staticserve import StaticServe

app = StaticServe(bare_asgi, root=ROOT, prefix=PREFIX, miss_cache_control=None)
