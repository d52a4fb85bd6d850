"""staticserve inside a Starlette app's own middleware stack, as a FastAPI or
Starlette user adds it (``Middleware(StaticServe, ...)``), with Starlette's
GZipMiddleware and CORSMiddleware outside it: both change the response start
they are handed (Content-Length deleted, Content-Encoding and Vary appended,
Access-Control-Allow-Origin rewritten). The static root comes from
``STATICSERVE_TEST_ROOT``, since every server imports the app in its own process.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from staticserve import StaticServe

ORIGINS = ["https://one.example", "https://two.example"]


async def page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("app page " * 50)


app = Starlette(
    routes=[Route("/app/page", page)],
    middleware=[
        Middleware(GZipMiddleware, minimum_size=100),
        Middleware(CORSMiddleware, allow_origins=ORIGINS),
        Middleware(
            StaticServe, root=os.environ.get("STATICSERVE_TEST_ROOT", ""), prefix="/static/"
        ),
    ],
)
