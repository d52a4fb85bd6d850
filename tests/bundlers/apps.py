"""Real applications with API routes beside a Vite SPA, for the server tests.

The build directory comes from ``STATICSERVE_TEST_DIST`` (servers import the
app in their own process). Each app serves the SPA at ``/`` with
``fallback="index.html"`` and has ``/api/items`` (200, JSON) and
``/api/items/{id}`` (404, JSON, for an unknown id).
"""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException
from flask import Flask, abort, jsonify

from staticserve import StaticServe, StaticServeWSGI

DIST = os.environ.get("STATICSERVE_TEST_DIST", "")
SPA = {"prefix": "/", "index_file": True, "fallback": "index.html"}

api = FastAPI()


@api.get("/api/items")
def items() -> list[int]:
    return [1, 2, 3]


@api.get("/api/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    if item_id not in (1, 2, 3):
        raise HTTPException(status_code=404, detail="no such item")
    return {"id": item_id}


fastapi_app = StaticServe(api, root=DIST, **SPA) if DIST else api

flask = Flask(__name__, static_folder=None)


@flask.get("/api/items")
def flask_items():  # type: ignore[no-untyped-def]
    return jsonify([1, 2, 3])


@flask.get("/api/items/<int:item_id>")
def flask_item(item_id: int):  # type: ignore[no-untyped-def]
    if item_id not in (1, 2, 3):
        abort(404)
    return jsonify({"id": item_id})


flask_app = StaticServeWSGI(flask.wsgi_app, root=DIST, **SPA) if DIST else flask
