"""The ``staticserve.django`` app: registers the system checks.

List it before ``django.contrib.staticfiles`` in ``INSTALLED_APPS`` so that its
``runserver`` (which leaves static files to the middleware) takes precedence.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class StaticServeConfig(AppConfig):
    name = "staticserve.django"
    label = "staticserve"
    verbose_name = "staticserve"

    def ready(self) -> None:
        from . import checks as staticserve_checks

        # Tagged "staticserve" only (not "staticfiles"), so that collectstatic,
        # which runs the staticfiles checks, is not told to run collectstatic.
        checks.register(staticserve_checks.check_middleware, "staticserve")
        checks.register(staticserve_checks.check_static_root, "staticserve")
        checks.register(staticserve_checks.check_manifest, "staticserve")
        checks.register(staticserve_checks.check_static_url, "staticserve")
        checks.register(staticserve_checks.check_app_order, "staticserve")
        checks.register(staticserve_checks.check_whitenoise_settings, "staticserve")
