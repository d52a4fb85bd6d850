"""Every request of the table, sent to real WhiteNoise and to staticserve.compat.whitenoise.

One gunicorn per side serves every configuration (mounted by name), both on
the same directories. Responses are compared semantically: status, body, and
each header (Cache-Control and Vary as sets, media-type parameters
normalised). A difference passes only if :data:`tests.compat.cases.ALLOWED`
lists it, and every entry there names the guide's section explaining it.
"""

from __future__ import annotations

import http.client
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from staticserve.config import ConfigError
from tests.compat.cases import ALLOWED, CASES, GUIDE, Allowed, Case, build_layer, build_site
from tests.support.servers import REPO, running_server

pytestmark = pytest.mark.timeout(300)

IGNORED = {"date", "server", "connection", "transfer-encoding", "keep-alive"}


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers: dict[str, str] = {}
        for name, value in headers:
            name = name.lower()
            known = self.headers.get(name)
            self.headers[name] = value if known is None else known + ", " + value
        self.body = body


def send(base: str, case: Case, headers: dict[str, str] | None = None) -> Response:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(case.method, case.url, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Response(response.status, response.getheaders(), body)
    finally:
        conn.close()


def request(base: str, case: Case) -> Response:
    """Send ``case``, first filling ``{etag}``/``{last_modified}`` from this side's GET."""
    headers = dict(case.headers)
    if any("{" in v for v in headers.values()):
        plain = {k: v for k, v in headers.items() if "{" not in v}
        first = send(base, Case(case.config, case.path, "GET", ()), plain)
        values = {
            "etag": first.headers.get("etag", ""),
            "last_modified": first.headers.get("last-modified", ""),
        }
        headers = {k: v.format(**values) for k, v in headers.items()}
    return send(base, case, headers)


def _media_type(value: str) -> tuple[str, frozenset[tuple[str, str]]]:
    kind, *params = value.split(";")
    pairs = set()
    for param in params:
        key, _, val = param.strip().partition("=")
        pairs.add((key.lower(), val.strip('"').lower()))
    return kind.strip().lower(), frozenset(pairs)


def _directives(value: str) -> frozenset[str]:
    return frozenset(d.strip().lower().replace(" ", "") for d in value.split(",") if d.strip())


NORMALISE = {
    "content-type": _media_type,
    "cache-control": _directives,
    "vary": _directives,
}


def differences(case: Case, theirs: Response, ours: Response) -> dict[str, tuple[object, object]]:
    """Aspect (``status``, ``body`` or a header name) -> (WhiteNoise's, ours)."""
    found: dict[str, tuple[object, object]] = {}
    if theirs.status != ours.status:
        found["status"] = (theirs.status, ours.status)
    if theirs.body != ours.body:
        found["body"] = (f"{len(theirs.body)} bytes", f"{len(ours.body)} bytes")
    names = (set(theirs.headers) | set(ours.headers)) - IGNORED
    if case.method != "HEAD":
        names.discard("content-length")  # the body comparison covers it
        for side in (theirs, ours):
            length = side.headers.get("content-length")
            assert length is None or int(length) == len(side.body), "wrong Content-Length"
    for name in sorted(names):
        a, b = theirs.headers.get(name), ours.headers.get(name)
        normalise = NORMALISE.get(name)
        if normalise is not None and a is not None and b is not None:
            if normalise(a) == normalise(b):
                continue
        elif a == b:
            continue
        found[name] = (a, b)
    return found


def unexplained(
    case: Case, found: dict[str, tuple[object, object]], status: int = 200
) -> dict[str, object]:
    """The differences no entry of ALLOWED accounts for.

    When the status differs for an allowed reason, the rest of the answer
    (headers of a 200 against those of a 304, say) follows from it and is
    accounted for by the same entry.
    """
    if "status" in found:
        for allowed in ALLOWED:
            if "status" in allowed.aspects and _applies(allowed, case, status):
                allowed.used.append(case.id)
                return {}
    left = {}
    for aspect, values in found.items():
        for allowed in ALLOWED:
            if (
                (aspect in allowed.aspects or "*" in allowed.aspects)
                and _applies(allowed, case, status)
                and (allowed.values is None or allowed.values(*values))
            ):
                allowed.used.append(case.id)
                break
        else:
            left[aspect] = values
    return left


def _applies(allowed: Allowed, case: Case, status: int) -> bool:
    return allowed.when(case) and (allowed.statuses is None or status in allowed.statuses)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    base = tmp_path_factory.mktemp("compat")
    build_site(base / "site")
    build_layer(base / "layer")
    (base / "auto").mkdir()
    env = {"COMPAT_BASE": str(base)}
    with (
        running_server(
            "gunicorn", "tests.compat.wsgi_apps:app", {**env, "COMPAT_IMPL": "whitenoise"}
        ) as theirs,
        running_server(
            "gunicorn", "tests.compat.wsgi_apps:app", {**env, "COMPAT_IMPL": "staticserve"}
        ) as ours,
    ):
        yield theirs.url, ours.url, base


def compare(servers: tuple[str, str, Path], case: Case) -> None:
    theirs_url, ours_url, _ = servers
    theirs, ours = request(theirs_url, case), request(ours_url, case)
    found = differences(case, theirs, ours)
    assert unexplained(case, found, ours.status) == {}, (
        f"{case.id}: WhiteNoise {theirs.status} {theirs.headers}\nours {ours.status} {ours.headers}"
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_answers_match_whitenoise(servers: tuple[str, str, Path], case: Case) -> None:
    compare(servers, case)


# -- autorefresh: the disk changes between requests, both sides see the same disk ------------


def test_autorefresh_files_added_edited_and_removed(servers: tuple[str, str, Path]) -> None:
    root = servers[2] / "auto"
    shutil.rmtree(root / "f", ignore_errors=True)
    page = Case("auto", "/f/new.css")
    compare(servers, page)  # not there yet: both hand it to the app
    (root / "f").mkdir()
    (root / "f/new.css").write_bytes(b"a { color: red }\n")
    compare(servers, page)
    (root / "f/new.css").write_bytes(b"a { color: blue; margin: 0 }\n")
    compare(servers, page)
    (root / "f/new.css").unlink()
    compare(servers, page)


def test_autorefresh_directories_added_and_removed(servers: tuple[str, str, Path]) -> None:
    root = servers[2] / "auto"
    shutil.rmtree(root / "d", ignore_errors=True)
    urls = [Case("auto", p) for p in ("/d", "/d/", "/d/index.html")]
    for case in urls:
        compare(servers, case)
    (root / "d").mkdir()
    (root / "d/index.html").write_bytes(b"<p>made after start</p>\n")
    for case in urls:
        compare(servers, case)
    shutil.rmtree(root / "d")
    for case in urls:
        compare(servers, case)


def test_autorefresh_root_created_after_start(servers: tuple[str, str, Path]) -> None:
    root = servers[2] / "later"
    shutil.rmtree(root, ignore_errors=True)
    case = Case("later", "/a.css")
    compare(servers, case)
    try:
        root.mkdir()
        (root / "a.css").write_bytes(b"b { }\n")
        compare(servers, case)
    finally:
        shutil.rmtree(root)
    compare(servers, case)


# -- what cannot be sent to one server ----------------------------------------------------------


def test_missing_root_without_autorefresh_is_an_error_where_whitenoise_warns(
    tmp_path: Path,
) -> None:
    """Allowed difference "missing-root" (guide: "Missing roots")."""
    import whitenoise

    from staticserve.compat.whitenoise import WhiteNoise

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        whitenoise.WhiteNoise(None, root=tmp_path / "nope")
    assert any("No directory at" in str(w.message) for w in caught)
    with pytest.raises(ConfigError, match="nope"):
        WhiteNoise(None, root=tmp_path / "nope")


# -- the list of allowed differences itself ----------------------------------------------------


def test_every_allowed_difference_is_needed(servers: tuple[str, str, Path]) -> None:
    """No stale entries: each one accounts for a difference in at least one case."""
    for allowed in ALLOWED:
        allowed.used.clear()
    for case in CASES:
        theirs, ours = request(servers[0], case), request(servers[1], case)
        unexplained(case, differences(case, theirs, ours), ours.status)
    assert [a.id for a in ALLOWED if not a.used] == []


def test_every_allowed_difference_is_explained_in_the_guide() -> None:
    guide = (REPO / GUIDE).read_text()
    headings = set(re.findall(r"^#+ (.+)$", guide, re.M))
    for allowed in ALLOWED:
        assert allowed.section in headings, f"{allowed.id}: no section {allowed.section!r}"
        assert f"`{allowed.id}`" in guide, f"{allowed.id} is not named in {GUIDE}"
