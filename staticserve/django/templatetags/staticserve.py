"""``{% load staticserve %}``: Subresource Integrity for static files.

* ``{% static_integrity "app.js" %}`` → ``sha384-...``
* ``{% static_script "app.js" type="module" defer=True %}`` →
  ``<script src="/static/app.1a2b3c4d5e6f.js" integrity="sha384-..."
  crossorigin="anonymous" type="module" defer></script>``
* ``{% static_stylesheet "app.css" media="screen" %}`` → the ``<link rel="stylesheet">``

URLs are exactly ``{% static %}``'s; the integrity is that of the file the
middleware serves at that URL (from the manifest when collectstatic wrote it).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..integrity import integrity_for

register = template.Library()


@register.simple_tag
def static_integrity(path: str) -> str:
    return integrity_for(path)


def _attrs(attrs: dict[str, Any]) -> SafeString:
    items = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = key.replace("_", "-")
        items.append((name, None if value is True else value))
    bare = [(" {}", (n,)) for n, v in items if v is None]
    valued = [(' {}="{}"', (n, v)) for n, v in items if v is not None]
    return format_html_join("", "{}", ((format_html(f, *a),) for f, a in valued + bare))


@register.simple_tag
def static_script(path: str, **attrs: Any) -> SafeString:
    attrs.setdefault("crossorigin", "anonymous")
    return format_html(
        '<script src="{}" integrity="{}"{}></script>',
        static(path),
        integrity_for(path),
        _attrs(attrs),
    )


@register.simple_tag
def static_stylesheet(path: str, **attrs: Any) -> SafeString:
    attrs.setdefault("crossorigin", "anonymous")
    return format_html(
        '<link rel="stylesheet" href="{}" integrity="{}"{}>',
        static(path),
        integrity_for(path),
        _attrs(attrs),
    )
