"""ServeStatic's ASGI middleware wrapping the inner ASGI app."""

from common import PREFIX, ROOT, bare_asgi
from servestatic import ServeStaticASGI

app = ServeStaticASGI(bare_asgi, root=ROOT, prefix=PREFIX)
