"""staticserve, marking off, over the inner app that marks its own 404.

The same bytes on the wire as staticserve's marked 404, with none of the
marking's work: what the miss would cost if marking were free.
"""

from app_marked_wsgi import app as marked
from common import PREFIX, ROOT

from staticserve import StaticServeWSGI

app = StaticServeWSGI(marked, root=ROOT, prefix=PREFIX, miss_cache_control=None)
