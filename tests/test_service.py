"""The adapters' fast path (StaticFiles.find + http.respond_plain) answers as plan() does."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticserve.http import respond_plain
from staticserve.resource import Resource
from staticserve.service import StaticFiles
from tests.conftest import HASHED_JS, StaticTree

PATHS = ["/static/css/site.css", "/static/" + HASHED_JS, "/static/img/logo.png",
         "/static/js/plain.js", "/static/missing.css", "/static/css/"]  # fmt: skip
ACCEPT = [None, "br, gzip", "gzip", "br;q=0, gzip", "identity", "*", "*;q=0", "x-gzip", "bogus"]


def tag_of(files: StaticFiles, path: str, accept: str | None) -> str | None:
    plan = files.plan(path, "GET", {} if accept is None else {"accept-encoding": accept})
    if plan is None:
        return None
    return dict(plan.headers).get(b"etag", b"").decode() or None


def general(
    files: StaticFiles, path: str, method: str, accept: str | None, tag: str | None
) -> object:
    headers = {}
    if accept is not None:
        headers["accept-encoding"] = accept
    if tag is not None:
        headers["if-none-match"] = tag
    plan = files.plan(path, method, headers)
    return None if plan is None else (plan.status, plan.headers, plan.body)


# The tree is only read: one per test is enough.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    accept=st.sampled_from(ACCEPT),
    tag_form=st.sampled_from([None, "exact", "weak", "list", "other", "star"]),
    raw=st.booleans(),
)
def test_fast_path_agrees_with_plan_whenever_it_answers(
    static_tree: StaticTree, path: str, method: str, accept: str | None, tag_form: str | None,
    raw: bool,
) -> None:  # fmt: skip
    files = StaticFiles(static_tree.root, "/static/")
    current = tag_of(files, path, accept) or '"none"'
    tag = {None: None, "exact": current, "weak": "W/" + current, "list": f'"x", {current}',
           "other": '"other"', "star": "*"}[tag_form]  # fmt: skip
    encoded_accept = accept.encode() if raw and accept is not None else accept
    entry = files.find(path)
    if entry is None:
        assert general(files, path, method, accept, tag) is None
    elif entry is not False:
        fast = respond_plain(entry, method, encoded_accept, tag)
        if fast is not False:
            assert (fast.status, fast.headers, fast.body) == general(
                files, path, method, accept, tag
            )


def loaded(files: StaticFiles, path: str) -> Resource:
    files.plan(path, "GET", {})
    entry = files.find(path)
    assert isinstance(entry, Resource)
    return entry


def test_respond_plain_answers_a_browser_revalidation_with_304(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/")
    tag = tag_of(files, "/static/css/site.css", "br, gzip")
    plan = respond_plain(loaded(files, "/static/css/site.css"), "GET", b"br, gzip", tag)
    assert plan and plan.status == 304


def test_respond_plain_sends_the_negotiated_variant(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/")
    plan = respond_plain(loaded(files, "/static/css/site.css"), "GET", b"br, gzip")
    assert plan and plan.status == 200
    assert (b"content-encoding", b"br") in plan.headers
    assert plan.body == static_tree.read("css/site.css.br")


@pytest.mark.parametrize("tag", ['W/"x"', '"a", "b"', "*"])
def test_respond_plain_leaves_other_if_none_match_forms_to_respond(
    static_tree: StaticTree, tag: str
) -> None:
    files = StaticFiles(static_tree.root, "/static/")
    assert respond_plain(loaded(files, "/static/css/site.css"), "GET", None, tag) is False


def test_respond_plain_leaves_other_methods_to_respond(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/")
    assert respond_plain(loaded(files, "/static/css/site.css"), "POST", None) is False


def test_find_knows_a_miss_without_the_general_path(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/")
    assert files.find("/static/nothing-here.css") is None


def test_find_leaves_a_file_not_loaded_yet_to_plan(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/")
    assert files.find("/static/css/site.css") is False


def test_find_leaves_a_file_due_for_its_recheck_to_plan(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/", recheck_interval=0)
    files.plan("/static/css/site.css", "GET", {})
    assert files.find("/static/css/site.css") is False


def test_find_always_defers_under_autorefresh(static_tree: StaticTree) -> None:
    files = StaticFiles(static_tree.root, "/static/", autorefresh=True)
    files.plan("/static/css/site.css", "GET", {})
    assert files.find("/static/css/site.css") is False
    # A file added later must be found by the general path, not called a miss.
    assert files.find("/static/added-later.css") is False


def test_find_leaves_a_directory_redirect_to_plan(static_tree: StaticTree) -> None:
    static_tree.write("docs/index.html", b"<p>hi</p>")
    files = StaticFiles(static_tree.root, "/static/", index_file=True)
    files.plan("/static/docs", "GET", {})
    assert files.find("/static/docs") is False


def test_a_root_at_slash_marks_misses_in_its_directories_not_everywhere(
    static_tree: StaticTree,
) -> None:
    files = StaticFiles(static_tree.root, prefix="/")
    assert set(files.miss_prefixes) == {"/css/", "/docs/", "/fonts/", "/img/", "/js/"}


def test_a_root_at_slash_beside_a_static_prefix_keeps_both_marked(
    static_tree: StaticTree,
) -> None:
    files = StaticFiles(static_tree.root, prefix="/static/")
    files.add_files(static_tree.path("css"), "/")
    assert files.miss_prefixes == ("/static/",)  # css/ holds files, no directory
    files.add_files(static_tree.root, "/")
    assert files.miss_prefixes[0] == "/static/" and "/img/" in files.miss_prefixes
