"""The framework recipes of the docs (examples/app/*) under real servers.

Each recipe is copied into a fresh application directory with the bundled
example as its ``assets/``, built exactly as the docs say, and started by a real
server; the docs test (tests/test_docs.py) checks that the docs show these files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.servers import REPO, running_server

RECIPES = REPO / "examples" / "app"


@dataclass(frozen=True)
class Recipe:
    name: str
    server: str
    target: str
    home_text: str
    django: bool = False


CASES = [
    Recipe("flask", "gunicorn", "flask_app:app", "Hello from Flask"),
    Recipe("fastapi", "uvicorn", "fastapi_app:app", '{"hello":"world"}'),
    Recipe("starlette", "granian", "starlette_app:app", "Hello from Starlette"),
    Recipe("litestar", "uvicorn", "litestar_app:app", "Hello from Litestar"),
    Recipe("wsgi", "gunicorn", "wsgi_app:app", "Hello from WSGI"),
    Recipe("asgi", "granian", "asgi_app:app", "Hello from ASGI"),
    Recipe("django-wsgi", "gunicorn", "mysite.wsgi", "Hello from Django", django=True),
    Recipe("django-asgi", "uvicorn", "mysite.asgi:application", "Hello from Django", django=True),
]


def _sh(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An application directory: the recipes, assets/ and both builds done."""
    app = tmp_path_factory.mktemp("recipes") / "app"
    shutil.copytree(RECIPES, app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "examples" / "src", app / "assets")
    bin_dir = Path(sys.executable).parent
    _sh([str(bin_dir / "staticserve"), "build", "-q", "assets/", "--out", "static/"], app)
    _sh([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], app)
    yield app


def _built(app: Path, recipe: Recipe) -> Path:
    return app / ("staticfiles" if recipe.django else "static")


def _check_serving(base_url: str, app: Path, recipe: Recipe) -> None:
    root = _built(app, recipe)
    hashed = json.loads((root / "staticfiles.json").read_text())["paths"]["css/site.css"]
    with httpx.Client(base_url=base_url, timeout=20) as client:
        home = client.get("/api/hello" if recipe.name == "fastapi" else "/")
        assert home.status_code == 200 and recipe.home_text in home.text
        plain = client.get("/static/css/site.css", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200
        assert plain.content == (root / "css" / "site.css").read_bytes()
        assert "max-age=31536000" not in plain.headers["cache-control"]
        br = client.get(f"/static/{hashed}", headers={"Accept-Encoding": "br"})
        assert br.status_code == 200 and br.headers["content-encoding"] == "br"
        assert "immutable" in br.headers["cache-control"]
        # Nothing served by name that the framework's own static route would leak.
        for leak in ("staticfiles.json", "css/site.css.br", "css/site.css.gz"):
            assert client.get(f"/static/{leak}").status_code == 404, leak


@pytest.mark.parametrize("recipe", CASES, ids=[c.name for c in CASES])
def test_recipe_serves_the_built_files_under_a_real_server(
    recipe: Recipe, app_dir: Path, tmp_path: Path
) -> None:
    # Started from another directory: the server changes into the app's directory.
    chdir = ["--chdir", str(app_dir)] if recipe.server == "gunicorn" else []
    cwd = tmp_path if recipe.server == "gunicorn" else app_dir
    with running_server(recipe.server, recipe.target, cwd=cwd, extra_args=chdir) as server:
        _check_serving(server.url, app_dir, recipe)


def test_flask_recipe_finds_its_root_from_any_working_directory(
    app_dir: Path, tmp_path: Path
) -> None:
    # No --chdir: the module is imported from elsewhere, the root still resolves.
    recipe = CASES[0]
    with running_server(
        "gunicorn", recipe.target, cwd=tmp_path, extra_args=["--pythonpath", str(app_dir)]
    ) as server:
        _check_serving(server.url, app_dir, recipe)
