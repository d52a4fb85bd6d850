"""staticserve's WSGI middleware with the miss marking off (``miss_cache_control=None``).

The app's 404 then goes out as the peers send it, unchanged: the like-for-like
reading of the miss scenario against WhiteNoise.
"""

from common import PREFIX, ROOT, bare_wsgi

from staticserve import StaticServeWSGI

app = StaticServeWSGI(bare_wsgi, root=ROOT, prefix=PREFIX, miss_cache_control=None)
