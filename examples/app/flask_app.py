"""Flask with staticserve in front: build with `staticserve build assets/ --out static/`."""

from pathlib import Path

from flask import Flask

from staticserve import StaticServeWSGI

# Resolved from this file, not the working directory: works under `gunicorn --chdir`,
# systemd's WorkingDirectory, or an import from anywhere else.
STATIC_ROOT = Path(__file__).resolve().parent / "static"

# static_folder=None: Flask's own /static/ route would otherwise answer first and serve
# every file by name, staticfiles.json and the .br/.gz siblings included.
app = Flask(__name__, static_folder=None)


@app.get("/")
def home() -> str:
    return '<link rel="stylesheet" href="/static/css/site.css"><h1>Hello from Flask</h1>'


app.wsgi_app = StaticServeWSGI(app.wsgi_app, root=STATIC_ROOT, prefix="/static/")  # type: ignore[method-assign]
