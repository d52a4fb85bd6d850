"""``runserver`` that leaves static files to StaticServeMiddleware (``--nostatic`` always).

Active when ``staticserve.django`` is listed before ``django.contrib.staticfiles``
in ``INSTALLED_APPS``: development then serves static files through the same
code path as production (finders + autorefresh under ``DEBUG``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import (
    Command as StaticfilesRunserverCommand,
)


class Command(StaticfilesRunserverCommand):
    help = (
        "Starts a lightweight web server for development; static files are served by "
        "staticserve's middleware (as with --nostatic)."
    )

    def get_handler(self, *args: Any, **options: Any) -> Any:
        # Skip staticfiles' StaticFilesHandler wrapper: the core runserver handler.
        return super(StaticfilesRunserverCommand, self).get_handler(*args, **options)
