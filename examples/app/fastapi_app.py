"""FastAPI with staticserve in front: build with `staticserve build assets/ --out static/`."""

from pathlib import Path

from fastapi import FastAPI

from staticserve import StaticServe

STATIC_ROOT = Path(__file__).resolve().parent / "static"

api = FastAPI()


@api.get("/api/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


# Wrap the whole app (not app.mount): static hits never reach FastAPI's routing.
app = StaticServe(api, root=STATIC_ROOT, prefix="/static/")
