"""``staticserve`` command line: serve, check, and (from staticserve.pipeline) build, find."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .pipeline.cache import CACHE_NAME
from .pipeline.cli import add_build_command, add_find_command, whole_number
from .pipeline.compress_cmd import add_compress_command
from .pipeline.manifest import COMPRESSED_SUFFIXES, MANIFEST_NAME

if TYPE_CHECKING:
    from .asgi import StaticServe
    from .index import StaticIndex

SERVE_ROOT_ENV = "STATICSERVE_SERVE_ROOT"
SERVE_PREFIX_ENV = "STATICSERVE_SERVE_PREFIX"
SERVE_MISS_ENV = "STATICSERVE_SERVE_MISS_CACHE_CONTROL"
SERVE_OPTIONS_ENV = "STATICSERVE_SERVE_OPTIONS"


class CommandError(Exception):
    """A user mistake: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (plus a pointer to --help), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument() call, and each one
        # asks shutil for the terminal size: importing shutil (bz2, lzma) and
        # a hundred ioctls before any command runs. Same width, asked once.
        # (typeshed types formatter_class as taking prog only; HelpFormatter takes width.)
        return self.formatter_class(prog=self.prog, width=_help_width())  # type: ignore[call-arg]


@functools.cache
def _help_width() -> int:
    """The terminal width as argparse's HelpFormatter computes it (COLUMNS, then the tty)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return (columns or 80) - 2


def version() -> str:
    """The installed distribution's version (the package's own when run from a checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    from . import __version__

    try:
        return dist_version("staticserve-http")
    except PackageNotFoundError:
        return __version__


def url_prefix(value: str) -> str:
    """Validate a URL path prefix given on the command line (argparse ``type=``).

    A prefix is a path on this server: it starts with ``/`` and has no ``..``,
    ``.`` or empty segment, no scheme or host, no query, fragment or backslash.
    """
    problem = None
    if value.startswith("//") or "://" in value:
        problem = "it is a URL, not a path: give only the path, e.g. /static/"
    elif not value.startswith("/"):
        problem = "it must start with '/'"
    elif any(c in value for c in "?#\\") or any(ord(c) < 33 for c in value):
        problem = "it may not contain '?', '#', '\\', spaces or control characters"
    elif any(seg in ("..", ".") for seg in value.split("/")):
        problem = "'.' and '..' segments are not allowed"
    elif "//" in value:
        problem = "empty segments ('//') are not allowed"
    if problem:
        raise argparse.ArgumentTypeError(f"bad prefix {value!r}: {problem}")
    return value


def describe_root(index: StaticIndex) -> str:
    """``N files`` plus what the scan left out and why, for serve and check alike.

    The count is of files (URLs of directory index pages are not counted
    again). Skipped entries are counted by walking the roots once more: this
    runs at start-up in the CLI only, never per request.
    """
    urls = index.urls()
    files = sum(1 for url in urls if not url.endswith("/"))
    served = set(urls)
    dot = manifests = siblings = caches = unlisted = 0
    for r in index.roots:
        root = r.path
        for dirpath, dirnames, filenames in os.walk(root):
            dot += sum(1 for d in dirnames if d.startswith("."))
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            present = set(filenames)
            for name in filenames:
                base, ext = os.path.splitext(name)
                if dirpath == root and name == CACHE_NAME:
                    caches += 1
                elif name.startswith("."):
                    dot += 1
                elif dirpath == root and name == MANIFEST_NAME:
                    manifests += 1
                elif ext in COMPRESSED_SUFFIXES and base in present:
                    siblings += 1
                elif r.listed:
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    unlisted += r.prefix + rel.replace(os.sep, "/") not in served
    skipped = []
    if siblings:
        skipped.append(f"{siblings} compressed siblings (served as encodings of their original)")
    if manifests:
        skipped.append(f"{manifests} manifest {MANIFEST_NAME} (read, never served)")
    if caches:
        skipped.append(f"{caches} build cache {CACHE_NAME} (never served)")
    if dot:
        skipped.append(f"{dot} dotfiles/dot-directories (never served)")
    if unlisted:
        skipped.append(
            f"{unlisted} files {MANIFEST_NAME} does not list (put there after the build: "
            "build again, or serve with manifest=False)"
        )
    text = f"{files} files"
    known = [
        f"{count} hashed per {rel}"
        for r in index.roots
        for rel, count in r.bundler_manifests.items()
    ]
    if known:
        text += f" ({', '.join(known)})"
    return text + (f"; not served by name: {', '.join(skipped)}" if skipped else "")


def _serve(args: argparse.Namespace) -> int:
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        raise CommandError(f"root {args.root!r} is not a directory")
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port; pick one from 1 to 65535")
    _check_port_free(args.host, args.port)
    # Index before the server starts, so a bad root fails here, in one line.
    miss = args.miss_cache_control or None  # "" sends no header
    app = serve_app(root, args.prefix, miss, **serve_options(args))
    url = f"http://{args.host}:{args.port}{app.files.prefixes[0]}"
    summary = describe_root(app.files.index)
    print(f"staticserve: serving {root} ({summary}) at {url}", flush=True)
    if args.server == "granian":
        return _run_granian(root, args)
    try:
        import uvicorn
    except ImportError:
        raise CommandError(
            "uvicorn is not installed: pip install 'staticserve-http[server]'"
        ) from None
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def serve_options(args: argparse.Namespace) -> dict[str, Any]:
    """Core options from `serve`'s --max-age, --immutable, --index-file and --spa."""
    options: dict[str, Any] = {"index_file": args.index_file}
    if args.max_age is not None:
        options["max_age"] = args.max_age
    if args.immutable is not None:
        options["immutable_file_test"] = args.immutable
    if args.spa:
        options["fallback"] = args.index_file
    return options


def serve_app(
    root: str, prefix: str, miss_cache_control: str | None = "no-store", **options: Any
) -> StaticServe:
    """The standalone production app `staticserve serve` runs."""
    # Imported here: `build`, `find` and `check` never serve, so they skip asyncio.
    from .asgi import StaticServe

    options = {"index_file": True, **options}
    return StaticServe(
        None, root=root, prefix=prefix, miss_cache_control=miss_cache_control, **options
    )


def granian_app() -> StaticServe:
    """Factory granian imports in its worker (it cannot take an app object)."""
    miss = os.environ.get(SERVE_MISS_ENV, "no-store") or None
    options = json.loads(os.environ.get(SERVE_OPTIONS_ENV) or "{}")
    return serve_app(
        os.environ[SERVE_ROOT_ENV], os.environ.get(SERVE_PREFIX_ENV, "/"), miss, **options
    )


def _run_granian(root: str, args: argparse.Namespace) -> int:
    try:
        from granian import Granian
        from granian.constants import Interfaces
    except ImportError:
        raise CommandError(
            "granian is not installed: pip install 'staticserve-http[server]'"
        ) from None
    os.environ[SERVE_ROOT_ENV] = root
    os.environ[SERVE_PREFIX_ENV] = args.prefix
    os.environ[SERVE_MISS_ENV] = args.miss_cache_control
    os.environ[SERVE_OPTIONS_ENV] = json.dumps(serve_options(args))
    Granian(
        "staticserve.cli:granian_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        factory=True,
        log_access=False,
    ).serve()
    return 0


_seconds = whole_number(0, "{text!r} is not a number of seconds (0 or more)")


def _check_port_free(host: str, port: int) -> None:
    import socket  # only serve needs it: build and find start without

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CommandError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port"
            ) from None


def _check(args: argparse.Namespace) -> int:
    from .index import StaticIndex

    index = StaticIndex()
    for root in args.roots:
        index.add_root(root, args.prefix)
    print(f"staticserve: servable under {args.prefix}: {describe_root(index)}")
    return 0


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for: importlib.metadata costs every
    other command (a no-change ``build`` included) tens of milliseconds to import."""

    HELP = "show program's version number and exit"

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        sys.stdout.write(f"staticserve {version()}\n")  # stdout, as argparse's own
        parser.exit()


def _config_error() -> type[Exception]:
    from .config import ConfigError  # serve's settings: build and find never load them

    return ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="staticserve", description="Serve and build static files for web apps.")
    parser.add_argument("-V", "--version", action=_VersionAction, nargs=0, help=_VersionAction.HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve a root standalone (production mode)",
        description="Serve ROOT over HTTP with production settings: index.html at dir/, "
        "immutable caching for hashed names, precompressed siblings negotiated.",
    )
    serve.add_argument("root", metavar="ROOT", help="directory to serve (e.g. a built root)")
    serve.add_argument(
        "--prefix", type=url_prefix, default="/", help="URL path to serve ROOT under (default /)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="ASGI server to run (default uvicorn; both come with the [server] extra)",
    )
    serve.add_argument(
        "--miss-cache-control",
        default="no-store",
        metavar="VALUE",
        help="Cache-Control of 404s and other errors (default no-store, so no cache keeps "
        "a miss); e.g. 'public, max-age=10'; '' sends none",
    )
    serve.add_argument(
        "--max-age",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="Cache-Control max-age of files that are not hashed (default 60; 0 sends "
        "no-cache). Hashed files are always immutable, index files always no-cache",
    )
    serve.add_argument(
        "--immutable",
        default=None,
        metavar="REGEX",
        help="files whose URL path matches REGEX (e.g. '^/assets/') are immutable, instead "
        "of the default test that recognises Django, webpack, Vite and esbuild hashed names; "
        "files a staticfiles.json or bundler manifest names hashed stay immutable",
    )
    serve.add_argument(
        "--index-file",
        default="index.html",
        metavar="NAME",
        help="file served at / and at directory URLs, always with no-cache (default index.html)",
    )
    serve.add_argument(
        "--spa",
        action="store_true",
        help="single-page app: a browser navigation to a path that is no file (no "
        "extension, Accept: text/html) gets the index file, no-cache; missing assets "
        "stay 404",
    )
    serve.set_defaults(func=_serve)

    check = commands.add_parser(
        "check",
        help="index roots and report what would be served",
        description="Index ROOTs as the middleware would and report how many files they "
        "serve and what was left out, and why. Exit 2 if a root is missing or its manifest "
        "is unreadable.",
    )
    check.add_argument("roots", nargs="+", metavar="ROOT", help="directories to index")
    check.add_argument(
        "--prefix",
        type=url_prefix,
        default="/static/",
        help="URL prefix the roots are served under (default /static/)",
    )
    check.set_defaults(func=_check)

    add_build_command(commands)
    add_find_command(commands)
    add_compress_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``staticserve`` command; returns its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    # The tuple is evaluated only when an exception propagates.
    except (CommandError, _config_error()) as exc:
        _say_error(args.command, exc)
        return 2
    except OSError as exc:  # e.g. a root that is unreadable, a disk that is full
        _say_error(args.command, exc)
        return 1
    except KeyboardInterrupt:
        return 130


def _say_error(command: str, exc: BaseException) -> None:
    message = str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        message = f"{exc.filename}: {exc.strerror}"
    if not message.startswith("staticserve"):
        message = f"staticserve {command}: {message}"
    print(message.splitlines()[0] if message else message, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
