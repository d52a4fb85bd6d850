"""FastAPI with staticserve mounted: build with `staticserve build assets/ --out static/`."""

from pathlib import Path

from fastapi import FastAPI

from staticserve import StaticServe

STATIC_ROOT = Path(__file__).resolve().parent / "static"

app = FastAPI()

# Mounted, the prefix is below the mount point: "/" serves /static/... itself
# (url_for("static", path="css/site.css") works as with Starlette's StaticFiles).
app.mount("/static", StaticServe(None, root=STATIC_ROOT, prefix="/"), name="static")
