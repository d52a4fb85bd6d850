"""collectstatic of a Vite build (STATICFILES_DIRS, as with django-vite): nothing hashed twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import REPO

from .conftest import VITE_DIST

pytestmark = pytest.mark.timeout(120)

SERVE = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client()
out = {}
for url in sys.argv[1:]:
    r = client.get(url)
    out[url] = [r.status_code, r.headers.get("Cache-Control")]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("collect")
    own = tmp / "own"
    own.mkdir()
    (own / "site.css").write_text("body { background: url(assets/logo-DYM68Rp9.png) }")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "tests.bundlers.django_collect.settings",
        "STATICSERVE_TEST_STATIC_ROOT": str(tmp / "static_root"),
        "STATICSERVE_TEST_DIST": str(VITE_DIST),
        "STATICSERVE_TEST_OWN": str(own),
    }
    run = [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"]
    done = subprocess.run(run, env=env, capture_output=True, text=True, cwd=tmp, timeout=90)
    assert done.returncode == 0, done.stderr
    root = tmp / "static_root"
    manifest = json.loads((root / "staticfiles.json").read_text())
    return root, manifest, env


def test_vite_assets_keep_their_names(collected: tuple[Path, dict, dict[str, str]]) -> None:
    root, manifest, _ = collected
    for asset in (VITE_DIST / "assets").iterdir():
        name = "assets/" + asset.name
        assert manifest["paths"][name] == name
        assert (root / name).read_bytes() == asset.read_bytes()
    hashed_twice = [p.name for p in (root / "assets").iterdir() if p.name.count(".") > 1]
    assert not [n for n in hashed_twice if not n.endswith((".br", ".gz", ".zst", ".map"))]


def test_chunk_only_the_vite_manifest_knows_is_not_hashed_twice(
    collected: tuple[Path, dict, dict[str, str]],
) -> None:
    _, manifest, _ = collected
    assert manifest["paths"]["assets/chart-BdheiUng.js"] == "assets/chart-BdheiUng.js"


def test_own_files_are_hashed_by_django_as_before(
    collected: tuple[Path, dict, dict[str, str]],
) -> None:
    root, manifest, _ = collected
    hashed_css = manifest["paths"]["site.css"]
    assert hashed_css != "site.css"
    assert "assets/logo-DYM68Rp9.png" in (root / hashed_css).read_text()


def test_collected_vite_assets_are_served_immutable(
    collected: tuple[Path, dict, dict[str, str]],
) -> None:
    _, _, env = collected
    urls = ["/static/assets/index-BvmkIFtm.js", "/static/assets/chart-BdheiUng.js"]
    done = subprocess.run(
        [sys.executable, "-c", SERVE, *urls], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for url in urls:
        assert result[url] == [200, "public, max-age=31536000, immutable"], url


def test_fallback_without_a_root_holding_it_is_a_startup_error(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "tests.bundlers.django_spa.settings",
        "STATICSERVE_TEST_DIST": str(tmp_path),  # an empty directory: no index.html
    }
    load = "from tests.bundlers.django_spa.wsgi import application"
    done = subprocess.run(
        [sys.executable, "-c", load], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured: STATICSERVE_FALLBACK = 'index.html'" in done.stderr
