"""Starlette ``StaticFiles`` mounted at the prefix, the inner ASGI app mounted at ``/``."""

from common import PREFIX, ROOT, bare_asgi
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

app = Starlette(
    routes=[
        Mount(PREFIX.rstrip("/"), app=StaticFiles(directory=ROOT)),
        Mount("/", app=bare_asgi),
    ]
)
