"""gated_app.py's gate, as a Django project under ASGI with StaticServeMiddleware.

Served by uvicorn in tests/hardening/test_first_load.py: the same big file,
held open after its hash by the same ``add_headers`` hook, so a test can see
whether Django's event loop answers another request meanwhile.
"""

from __future__ import annotations

import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="gated-test-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["staticserve.django"],
    MIDDLEWARE=["staticserve.django.middleware.StaticServeMiddleware"],
    STATIC_URL="/static/",
    STATIC_ROOT=os.environ.get("GATED_ROOT", "."),
    STATICSERVE_ADD_HEADERS_FUNCTION="tests.hardening.gated_app.hold_big_file_loads",
)
urlpatterns: list[object] = []
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402  (after settings)

app = get_asgi_application()
