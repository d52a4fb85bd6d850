"""staticserve's ASGI middleware wrapping the inner ASGI app."""

from common import PREFIX, ROOT, bare_asgi

from staticserve import StaticServe

app = StaticServe(bare_asgi, root=ROOT, prefix=PREFIX)
