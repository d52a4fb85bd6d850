"""Huge If-None-Match / If-Match lists that contain our own tag: bounded work.

A list without our tag is dismissed by one substring scan; one that holds it
must be vetted as a whole (a malformed list matches nothing, RFC 9110
13.1.2). That is one regex call (C speed) on at most ``ETAG_LIST_MAX``
characters: no Python step per member, whatever the list's size. Measured
with the hardening suite's machine-independent counts (Python lines
executed, bytes allocated), never elapsed time.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from staticserve.http import ETAG_LIST_MAX, respond
from staticserve.index import StaticIndex
from staticserve.resource import Resource
from tests.hardening.conftest import HostileTree, make_hostile_tree
from tests.hardening.test_hostile_headers import python_steps

MB = 1024 * 1024


@pytest.fixture(scope="module")
def css(tmp_path_factory: pytest.TempPathFactory) -> Resource:
    tree: HostileTree = make_hostile_tree(tmp_path_factory.mktemp("etag-lists"))
    index = StaticIndex()
    index.add_root(tree.root, "/static/")
    resource = index.lookup("/static/css/site.css")
    assert isinstance(resource, Resource)
    return resource


def tag(css: Resource) -> str:
    return css.identity.etag


# Lists of about ``n`` characters holding our (identity) tag, by shape.
LISTS: dict[str, Callable[[int, str], str]] = {
    "tag-first-then-members": lambda n, t: f"{t}, " + '"t", ' * (n // 5),
    "members-then-tag": lambda n, t: '"t", ' * (n // 5) + t,
    "dense-empty-tags": lambda n, t: f"{t}," + '"",' * (n // 3),
    "weak-members": lambda n, t: f"{t}, " + 'W/"t", ' * (n // 7),
    "tag-repeated": lambda n, t: f"{t}, " * (n // (len(t) + 2)),
    "weak-tag-repeated": lambda n, t: f"W/{t}, " * (n // (len(t) + 4)),
    "malformed-at-the-end": lambda n, t: f"{t}, " + '"t", ' * (n // 5) + "x",
    "whitespace-runs": lambda n, t: f"{t}," + " \t" * (n // 2),
}
STATUSES = ("if-none-match", "if-match")


def run(css: Resource, name: str, value: str) -> int:
    return respond(css, "GET", {name: value, "accept-encoding": "identity"}).status


@pytest.mark.parametrize("name", STATUSES)
@pytest.mark.parametrize("shape", LISTS.values(), ids=LISTS.keys())
def test_python_steps_for_a_list_with_our_tag_do_not_grow_with_its_size(
    css: Resource, shape: Callable[[int, str], str], name: str
) -> None:
    # Within the bound (the whole list is vetted) and far beyond it.
    small = python_steps(lambda: run(css, name, shape(1024, tag(css))))
    within = python_steps(lambda: run(css, name, shape(ETAG_LIST_MAX - 64, tag(css))))
    huge = python_steps(lambda: run(css, name, shape(MB, tag(css))))
    assert within <= small + 20, f"{small} Python lines at 1 KiB, {within} at the bound"
    assert huge <= small + 20, f"{small} Python lines at 1 KiB, {huge} at 1 MiB"


@pytest.mark.parametrize("shape", LISTS.values(), ids=LISTS.keys())
def test_a_megabyte_list_with_our_tag_allocates_at_most_a_copy_of_it(
    css: Resource, shape: Callable[[int, str], str]
) -> None:
    value = shape(MB, tag(css))
    tracemalloc.start()
    try:
        run(css, "if-none-match", value)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Splitting it into members would cost many times its size in small strings.
    assert peak <= len(value), f"peak {peak} bytes for a {len(value)}-byte list"


@pytest.mark.parametrize(
    ("shape", "not_modified"),
    [
        ("tag-first-then-members", True),
        ("members-then-tag", True),
        ("dense-empty-tags", True),
        ("weak-members", True),
        ("tag-repeated", True),
        ("weak-tag-repeated", True),  # If-None-Match compares weakly
        ("malformed-at-the-end", False),
        ("whitespace-runs", True),
    ],
)
def test_a_list_within_the_bound_is_evaluated_as_a_whole(
    css: Resource, shape: str, not_modified: bool
) -> None:
    value = LISTS[shape](ETAG_LIST_MAX - 64, tag(css))
    assert len(value) <= ETAG_LIST_MAX
    assert run(css, "if-none-match", value) == (304 if not_modified else 200)


@pytest.mark.parametrize(
    ("shape", "status"),
    [("tag-repeated", 200), ("weak-tag-repeated", 412), ("malformed-at-the-end", 412)],
)
def test_if_match_within_the_bound_compares_strongly_over_the_whole_list(
    css: Resource, shape: str, status: int
) -> None:
    value = LISTS[shape](ETAG_LIST_MAX - 64, tag(css))
    assert run(css, "if-match", value) == status


@pytest.mark.parametrize("shape", LISTS.values(), ids=LISTS.keys())
def test_a_list_longer_than_the_bound_matches_nothing(
    css: Resource, shape: Callable[[int, str], str]
) -> None:
    value = shape(MB, tag(css))
    assert run(css, "if-none-match", value) == 200
    assert run(css, "if-match", value) == 412
