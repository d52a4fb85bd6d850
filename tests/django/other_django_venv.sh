#!/usr/bin/env bash
# Make (once) and print the Python of a cached virtualenv holding another Django
# version (default: 4.2 LTS), which sees this interpreter's other packages
# (brotli, zstandard, whitenoise, ...) after its own Django, through a .pth file.
#
#   tests/django/other_django_venv.sh ["django>=4.2,<5.0"]   # prints .../bin/python
#
# The venv lives in ${STATICSERVE_OTHER_DJANGO_VENV:-~/.cache/staticserve/django-other-v2}
# and is reused while it holds the requested version.
set -euo pipefail
spec="${1:-django>=4.2,<5.0}"
py="${PYTHON:-python3}"
# "-v2": Django's own dependencies are installed in the venv (before the .pth
# exists); venvs of the earlier layout (django-other) lack them.
venv="${STATICSERVE_OTHER_DJANGO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/staticserve/django-other-v2}"
stamp="$venv/.spec"
want="$spec"
mkdir -p "$(dirname "$venv")"
# One creator at a time (parallel test workers share the cache).
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$spec" >&2
  echo "$want" > "$stamp"
fi
# The caller's site-packages (a venv's or the system's), searched after ours;
# rewritten on every call, so a venv made by an earlier (since deleted) caller
# sees this caller's packages.
purelib="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$py" -c 'import sys; print("\n".join(p for p in sys.path if p.endswith("-packages")))' \
  > "$purelib/zz_staticserve_parent.pth"
echo "$venv/bin/python"
