#!/usr/bin/env bash
# Run the Django integration tests under another Django version (default: 4.2 LTS)
# in the cached virtualenv of other_django_venv.sh.
#
#   tests/django/run_other_version.sh ["django>=4.2,<5.0"]
set -euo pipefail
cd "$(dirname "$0")/../.."
spec="${1:-django>=4.2,<5.0}"
vpy="$(tests/django/other_django_venv.sh "$spec")"
echo "Django $("$vpy" -m django --version) at $("$vpy" -c 'import django; print(django.__path__[0])')"

export DJANGO_SETTINGS_MODULE=tests.django.project.settings
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
SS_STATIC_ROOT="$root/manifest" "$vpy" -m django collectstatic --noinput -v 0
SS_STATIC_ROOT="$root/manifest" "$vpy" -m django test -v 1 \
  tests.django.project.dj_client tests.django.project.dj_checks \
  tests.django.project.dj_debug tests.django.project.dj_storage tests.django.project.dj_live \
  tests.django.project.dj_compat
