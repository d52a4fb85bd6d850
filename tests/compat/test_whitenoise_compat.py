"""staticserve.compat.whitenoise.WhiteNoise: WhiteNoise's signature, defaults and hooks."""

from __future__ import annotations

import inspect
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
import whitenoise

from staticserve.compat.whitenoise import FOREVER, WhiteNoise
from staticserve.config import ConfigError


def get(app: WhiteNoise, path: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = path
    seen: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, {k.lower(): v for k, v in headers}

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css/a.css").write_text("a { }\n")
    (tmp_path / "app.0123456789ab.js").write_text("1\n")
    return tmp_path


def test_signature_is_whitenoises() -> None:
    ours = inspect.signature(WhiteNoise.__init__).parameters
    theirs = inspect.signature(whitenoise.WhiteNoise.__init__).parameters
    for name, parameter in theirs.items():
        assert name in ours, name
        assert ours[name].default == parameter.default, name
        assert ours[name].kind == parameter.kind, name


def test_files_are_served_at_the_root_by_default(root: Path) -> None:
    status, headers, body = get(WhiteNoise(None, root=root), "/css/a.css")
    assert status.startswith("200") and body == b"a { }\n"
    assert headers["access-control-allow-origin"] == "*"


def test_cache_control_is_spelled_as_whitenoise_spells_it(root: Path) -> None:
    _, headers, _ = get(WhiteNoise(None, root=root, max_age=3600), "/css/a.css")
    assert headers["cache-control"] == "max-age=3600, public"


def test_charset_is_quoted_as_whitenoise_quotes_it(root: Path) -> None:
    _, headers, _ = get(WhiteNoise(None, root=root, charset="iso-8859-1"), "/css/a.css")
    assert headers["content-type"] == 'text/css; charset="iso-8859-1"'


def test_no_cache_keeps_its_spelling(root: Path) -> None:
    _, headers, _ = get(WhiteNoise(None, root=root, max_age=0), "/css/a.css")
    assert headers["cache-control"] == "no-cache"


def test_nothing_is_immutable_by_default(root: Path) -> None:
    _, headers, _ = get(WhiteNoise(None, root=root), "/app.0123456789ab.js")
    assert "immutable" not in headers["cache-control"]


def test_a_subclass_immutable_file_test_method_is_used(root: Path) -> None:
    class Versioned(WhiteNoise):
        def immutable_file_test(self, path: str, url: str) -> bool:
            return url.startswith("/css/")

    _, headers, _ = get(Versioned(None, root=root), "/css/a.css")
    assert headers["cache-control"] == f"max-age={FOREVER}, public, immutable"


def test_immutable_file_test_regex_is_the_instance_method_too() -> None:
    instance = WhiteNoise(None, immutable_file_test=r"\.test$")
    assert instance.immutable_file_test("", "/myfile.test")
    assert not instance.immutable_file_test("", "file.test.txt")


def test_add_headers_function_with_headers_semantics(root: Path) -> None:
    def add_headers(headers, path, url):  # type: ignore[no-untyped-def]
        headers["X-Url"] = url
        del headers["Access-Control-Allow-Origin"]

    _, headers, _ = get(WhiteNoise(None, root=root, add_headers_function=add_headers), "/css/a.css")
    assert headers["x-url"] == "/css/a.css" and "access-control-allow-origin" not in headers


def test_add_headers_function_sees_whitenoises_spelling(root: Path) -> None:
    seen = {}

    def add_headers(headers, path, url):  # type: ignore[no-untyped-def]
        seen.update(headers)

    get(WhiteNoise(None, root=root, add_headers_function=add_headers), "/css/a.css")
    assert seen["cache-control"] == "max-age=60, public"
    assert seen["content-type"] == 'text/css; charset="utf-8"'


def test_add_headers_function_of_the_wrong_shape_fails_at_construction(root: Path) -> None:
    with pytest.raises(ConfigError, match=r"add_headers.*\(headers, path, url\)"):
        WhiteNoise(None, root=root, add_headers_function=lambda headers: None)


def test_add_files_prefix_defaults_to_the_root(root: Path) -> None:
    app = WhiteNoise(None)
    app.add_files(root)
    app.add_files(root, prefix="assets")
    assert get(app, "/css/a.css")[0].startswith("200")
    assert get(app, "/assets/css/a.css")[0].startswith("200")


def test_staticserve_options_pass_through(root: Path) -> None:
    (root / ".well-known").mkdir()
    (root / ".well-known/security.txt").write_text("Contact: x\n")
    assert get(WhiteNoise(None, root=root), "/.well-known/security.txt")[0].startswith("404")
    app = WhiteNoise(None, root=root, include_dotfiles=True)
    assert get(app, "/.well-known/security.txt")[0].startswith("200")


@pytest.mark.parametrize(
    ("root", "path", "expected"),
    [
        ("/one/two/", "/one/two/three", True),
        ("/one/two/", "/one_two/three", False),
        ("/one/two/", "two/three", False),
        ("A:/some/path", "B:/another/path", False),
    ],
)
def test_path_is_child_of_is_whitenoises_helper(root: str, path: str, expected: bool) -> None:
    assert WhiteNoise.path_is_child_of(path, root) is expected
    assert whitenoise.WhiteNoise.path_is_child_of(path, root) is expected
