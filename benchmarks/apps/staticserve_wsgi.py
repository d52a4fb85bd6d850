"""staticserve's WSGI middleware wrapping the inner WSGI app."""

from common import PREFIX, ROOT, bare_wsgi

from staticserve import StaticServeWSGI

app = StaticServeWSGI(bare_wsgi, root=ROOT, prefix=PREFIX)
