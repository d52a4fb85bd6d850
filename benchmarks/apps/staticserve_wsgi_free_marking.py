"""staticserve, marking off, over the inner app that marks its own 404.

The same bytes on the wire as staticserve's marked 404, with none of the
marking's work: what the miss would cost if marking were free.
"""

from common import PREFIX, ROOT, marked_wsgi

from staticserve import StaticServeWSGI

app = StaticServeWSGI(marked_wsgi, root=ROOT, prefix=PREFIX, miss_cache_control=None)
