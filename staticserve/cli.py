"""``staticserve`` command line: serve, check, and (from staticserve.pipeline) build, find."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence

from .config import ConfigError
from .pipeline.cli import add_build_command, add_find_command

SERVE_ROOT_ENV = "STATICSERVE_SERVE_ROOT"
SERVE_PREFIX_ENV = "STATICSERVE_SERVE_PREFIX"


class CommandError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def _serve(args: argparse.Namespace) -> int:
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        raise CommandError(f"root {args.root!r} is not a directory")
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port; pick one from 1 to 65535")
    _check_port_free(args.host, args.port)
    # Index before the server starts, so a bad root fails here, in one line.
    app = serve_app(root, args.prefix)
    url = f"http://{args.host}:{args.port}{app.files.prefixes[0]}"
    print(f"staticserve: serving {root} ({len(app.files.index)} files) at {url}", flush=True)
    if args.server == "granian":
        return _run_granian(root, args)
    try:
        import uvicorn
    except ImportError:
        raise CommandError("uvicorn is not installed: pip install 'staticserve[server]'") from None
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def serve_app(root: str, prefix: str):  # type: ignore[no-untyped-def]
    """The standalone production app `staticserve serve` runs."""
    from .asgi import StaticServe

    return StaticServe(None, root=root, prefix=prefix, index_file=True)


def granian_app():  # type: ignore[no-untyped-def]
    """Factory granian imports in its worker (it cannot take an app object)."""
    return serve_app(os.environ[SERVE_ROOT_ENV], os.environ.get(SERVE_PREFIX_ENV, "/"))


def _run_granian(root: str, args: argparse.Namespace) -> int:
    try:
        from granian import Granian
    except ImportError:
        raise CommandError("granian is not installed: pip install 'staticserve[server]'") from None
    os.environ[SERVE_ROOT_ENV] = root
    os.environ[SERVE_PREFIX_ENV] = args.prefix
    Granian(
        "staticserve.cli:granian_app",
        address=args.host,
        port=args.port,
        interface="asgi",
        factory=True,
        log_access=False,
    ).serve()
    return 0


def _check_port_free(host: str, port: int) -> None:
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
    print(f"staticserve: {len(index)} files servable under {args.prefix}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="staticserve", description="Serve and build static files for web apps."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a root standalone (production mode)")
    serve.add_argument("root", help="directory to serve")
    serve.add_argument("--prefix", default="/", help="URL prefix (default /)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    serve.set_defaults(func=_serve)

    check = commands.add_parser("check", help="index roots and report what would be served")
    check.add_argument("roots", nargs="+")
    check.add_argument("--prefix", default="/static/")
    check.set_defaults(func=_check)

    add_build_command(commands)
    add_find_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CommandError, ConfigError) as exc:
        message = str(exc)
        if not message.startswith("staticserve"):
            message = f"staticserve {args.command}: {message}"
        print(message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
