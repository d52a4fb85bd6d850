#!/usr/bin/env bash
# Run the Django integration tests under another Django version (default: 4.2 LTS)
# in a cached virtualenv that sees this interpreter's other packages (brotli,
# zstandard, ...) after its own Django, through a .pth file.
#
#   tests/django/run_other_version.sh ["django>=4.2,<5.0"]
#
# The venv lives in ${STATICSERVE_OTHER_DJANGO_VENV:-~/.cache/staticserve/django-other}
# and is reused while it holds the requested version.
set -euo pipefail
cd "$(dirname "$0")/../.."
spec="${1:-django>=4.2,<5.0}"
py="${PYTHON:-python3}"
venv="${STATICSERVE_OTHER_DJANGO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/staticserve/django-other}"
stamp="$venv/.spec"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$spec" ]; then
  rm -rf "$venv"
  "$py" -m venv "$venv"
  purelib="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  # The parent's site-packages (a venv's or the system's), searched after ours.
  "$py" -c 'import sys; print("\n".join(p for p in sys.path if p.endswith("-packages")))' \
    > "$purelib/zz_staticserve_parent.pth"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$spec"
  echo "$spec" > "$stamp"
fi
vpy="$venv/bin/python"
echo "Django $("$vpy" -m django --version) at $("$vpy" -c 'import django; print(django.__path__[0])')"

export DJANGO_SETTINGS_MODULE=tests.django.project.settings
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
SS_STATIC_ROOT="$root/manifest" "$vpy" -m django collectstatic --noinput -v 0
SS_STATIC_ROOT="$root/manifest" "$vpy" -m django test -v 1 \
  tests.django.project.dj_client tests.django.project.dj_checks \
  tests.django.project.dj_debug tests.django.project.dj_storage tests.django.project.dj_live
