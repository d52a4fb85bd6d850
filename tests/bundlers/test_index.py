"""What the index makes of bundler output: immutable assets, revalidated entry points."""

from __future__ import annotations

from pathlib import Path

from staticserve.config import Config
from staticserve.index import StaticIndex
from staticserve.resource import IMMUTABLE_CACHE_CONTROL


def _cache_control(index: StaticIndex, url: str) -> str:
    resource = index.lookup(url)
    assert resource is not None, url
    return dict(resource.identity.plan_get.headers)[b"cache-control"].decode()


def _index(root: Path, **options: object) -> StaticIndex:
    index = StaticIndex(Config(index_file=True, **options))  # type: ignore[arg-type]
    index.add_root(root, "/")
    return index


def test_every_vite_asset_is_immutable(vite_dist: Path) -> None:
    index = _index(vite_dist)
    for path in (vite_dist / "assets").iterdir():
        assert _cache_control(index, "/assets/" + path.name) == IMMUTABLE_CACHE_CONTROL


def test_every_webpack_hashed_output_is_immutable(webpack_dist: Path) -> None:
    index = _index(webpack_dist)
    for url in ("/main.111bf90bdf23d77869c9.js", "/4fb4b181516f707b1659.png", "/chart.37593ba1.js"):
        assert _cache_control(index, url) == IMMUTABLE_CACHE_CONTROL
    assert _cache_control(index, "/manifest.json") == "public, max-age=60"


def test_index_html_is_no_cache_at_slash(vite_dist: Path) -> None:
    assert _cache_control(_index(vite_dist), "/") == "no-cache"


def test_index_html_by_name_is_no_cache_without_index_file(vite_dist: Path) -> None:
    index = StaticIndex(Config(fallback="index.html"))
    index.add_root(vite_dist, "/")
    assert _cache_control(index, "/index.html") == "no-cache"


def test_index_file_in_a_directory_is_no_cache(vite_dist: Path) -> None:
    (vite_dist / "docs").mkdir()
    (vite_dist / "docs" / "index.html").write_text("<p>docs</p>")
    index = _index(vite_dist)
    assert _cache_control(index, "/docs/") == "no-cache"


def test_index_html_is_never_immutable_even_if_the_user_test_says_so(vite_dist: Path) -> None:
    index = _index(vite_dist, immutable_file_test=r".*")
    assert _cache_control(index, "/") == "no-cache"
    assert _cache_control(index, "/favicon.svg") == IMMUTABLE_CACHE_CONTROL


def test_user_immutable_file_test_replaces_the_name_test(vite_dist: Path) -> None:
    (vite_dist / ".vite" / "manifest.json").unlink()
    index = _index(vite_dist, immutable_file_test=r"^nothing/")
    assert _cache_control(index, "/assets/index-BvmkIFtm.js") == "public, max-age=60"


def test_bundler_manifest_is_ignored_with_manifest_false(vite_dist: Path) -> None:
    index = _index(vite_dist, manifest=False)
    # The name test still applies; the manifest's extra knowledge does not.
    assert _cache_control(index, "/assets/index-BvmkIFtm.js") == IMMUTABLE_CACHE_CONTROL
    assert _cache_control(index, "/assets/chart-BdheiUng.js") == "public, max-age=60"


def test_vite_manifest_itself_is_not_served(vite_dist: Path) -> None:
    assert _index(vite_dist).lookup("/.vite/manifest.json") is None
