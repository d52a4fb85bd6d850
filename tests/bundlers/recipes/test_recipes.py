"""The recipes of docs/bundlers.md, run as a reader would (files are byte-equal to the docs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.support.servers import running_server

from ..conftest import VITE_DIST

pytestmark = pytest.mark.timeout(120)

HERE = Path(__file__).resolve().parent
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def test_fastapi_spa_recipe(tmp_path: Path) -> None:
    shutil.copy(HERE / "fastapi_spa.py", tmp_path / "main.py")
    shutil.copytree(VITE_DIST, tmp_path / "frontend" / "dist")
    with running_server("uvicorn", "main:app", cwd=tmp_path) as server:
        base = server.url
        assert httpx.get(base + "/api/items").json() == [1, 2, 3]
        assert (
            httpx.get(base + "/api/items/9", headers={"accept": "application/json"}).status_code
            == 404
        )
        page = httpx.get(base + "/about", headers={"accept": BROWSER})
        assert page.status_code == 200 and b'<div id="app">' in page.content
        asset = httpx.get(base + "/assets/index-BvmkIFtm.js")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
