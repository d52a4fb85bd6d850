"""Litestar with staticserve in front: build with `staticserve build assets/ --out static/`."""

from pathlib import Path

from litestar import Litestar, get

from staticserve import StaticServe

STATIC_ROOT = Path(__file__).resolve().parent / "static"


@get("/")
async def home() -> str:
    return "Hello from Litestar"


app = StaticServe(Litestar(route_handlers=[home]), root=STATIC_ROOT, prefix="/static/")
