"""Django: errors under STATIC_URL carry STATICSERVE_MISS_CACHE_CONTROL (no-store)."""

from __future__ import annotations

from tests.django.test_django import django_env, run


def test_django_errors_under_static_url_are_never_cacheable() -> None:
    out = run(["test", "-v", "2", "tests.django.project.dj_misses"], django_env())
    assert "\nOK" in out, out
