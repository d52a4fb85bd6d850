"""Starlette with staticserve in front: build with `staticserve build assets/ --out static/`."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from staticserve import StaticServe

STATIC_ROOT = Path(__file__).resolve().parent / "static"


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello from Starlette")


app = StaticServe(Starlette(routes=[Route("/", home)]), root=STATIC_ROOT, prefix="/static/")
