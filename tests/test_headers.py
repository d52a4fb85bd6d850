"""HeaderList: the add_headers hook's argument, a list of pairs and a Headers at once."""

from __future__ import annotations

from pathlib import Path
from wsgiref.headers import Headers

import pytest

from staticserve.config import Config
from staticserve.headers import HeaderList, checked_pairs
from staticserve.resource import load_resource


def test_list_operations_work_as_on_a_list() -> None:
    headers = HeaderList([("Content-Type", "text/css")])
    headers.append(("X-A", "1"))
    headers += [("X-B", "2")]
    assert headers[0] == ("Content-Type", "text/css") and len(headers) == 3
    assert ("X-A", "1") in headers


def test_mapping_operations_behave_like_wsgiref_headers() -> None:
    ours = HeaderList([("Cache-Control", "public, max-age=60"), ("X-Old", "1")])
    theirs = Headers([("Cache-Control", "public, max-age=60"), ("X-Old", "1")])
    for headers in (ours, theirs):
        headers["cache-control"] = "no-store"
        headers["X-Foo"] = "1"
        del headers["x-old"]
        headers.add_header("Content-Disposition", "attachment", filename="a.css")
        headers.setdefault("X-Foo", "ignored")
    assert ours.items() == theirs.items()
    assert ours["X-FOO"] == theirs["X-FOO"] == "1"
    assert ours["missing"] is theirs["missing"] is None
    assert ("cache-control" in ours) and ("cache-control" in theirs)
    assert ours.get_all("x-foo") == theirs.get_all("x-foo")


def test_a_whitenoise_style_hook_sets_headers_on_the_response(tmp_path: Path) -> None:
    def whitenoise_hook(headers, path, url):  # type: ignore[no-untyped-def]
        headers["X-Foo"] = "1"
        headers["Cache-Control"] = "no-store"

    path = tmp_path / "a.css"
    path.write_text("a{}")
    res = load_resource("/static/a.css", str(path), (), Config(add_headers=whitenoise_hook))
    sent = dict(res.identity.plan_get.headers)
    assert sent[b"x-foo"] == b"1" and sent[b"cache-control"] == b"no-store"


@pytest.mark.parametrize(
    "pair", [("X-A", "a\r\nSet-Cookie: x=1"), ("Bad Name", "1"), ("X-A", "snowman \u2603"), "X"]
)
def test_bad_pairs_left_by_a_hook_are_an_error_naming_the_file(pair: object) -> None:
    with pytest.raises(ValueError, match=r"css/a\.css"):
        checked_pairs([pair], "css/a.css")
