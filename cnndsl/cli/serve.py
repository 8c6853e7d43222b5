"""`cnndsl serve`: the playground, a page in the browser that checks a spec as it is typed."""

from __future__ import annotations

import errno
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

from cnndsl.cli import common

if TYPE_CHECKING:     # every command's module is imported to build the parser: keep it light
    import socket

NO_EXTRA = ("`cnndsl serve` needs Starlette and uvicorn, which are not installed: "
            "pip install 'cnndsl[serve]'")


def add(sub) -> None:
    p = sub.add_parser("serve", help="a live playground in the browser: type a spec, "
                                     "watch its shapes, errors and diagram")
    p.add_argument("file", nargs="?", metavar="SPEC",
                   help="a spec to open; the page saves back to it only when asked to")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000,
                   help="port to listen on (default: 8000; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument("--examples", metavar="DIR",
                   help="folder of specs for the examples menu (default: ./specs, or the "
                        "source checkout's specs/)")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        import uvicorn  # noqa: F401  (imported first: its absence is the usual reason)

        from cnndsl.serve.app import create_app
        from cnndsl.serve.guard import LOCAL_HOSTS, new_token
        from cnndsl.serve.server import serve
        from cnndsl.serve.workspace import Workspace
    except ImportError:
        raise common.CommandError(NO_EXTRA) from None
    workspace = Workspace(Path(args.file) if args.file else None, examples(args.examples))
    sock = listen(args.host, args.port)
    token = new_token()
    url = address(args.host, sock.getsockname()[1]) + f"?token={token}"
    local = is_loopback(sock.getsockname()[0])   # what was bound, not how it was spelt
    common.say(f"cnndsl serve: {url}  (Ctrl-C to stop)")
    if not local:
        common.say("note: listening beyond this machine: anyone who reaches this address can "
                   "use the playground" + (" and save to the opened file" if args.file else ""))
    if args.open:
        import webbrowser

        webbrowser.open(url)
    hosts = LOCAL_HOSTS | {host_name(args.host)} if local else None
    serve(create_app(workspace, token, hosts=hosts), sock)
    return common.EXIT_OK


def examples(chosen: str | None) -> Path | None:
    """The examples folder: the one asked for, else `./specs`, else the checkout's `specs/`."""
    from cnndsl.files import is_directory, show_path

    if chosen is not None:
        if not is_directory(chosen):
            raise common.CommandError(f"`--examples {show_path(chosen)}` is not a directory",
                                      common.EXIT_USAGE)
        return Path(chosen)
    import cnndsl

    if is_directory("specs"):
        return Path("specs")
    checkout = Path(cnndsl.__file__).resolve().parent.parent   # an editable install's source
    if (checkout / "pyproject.toml").is_file() and (checkout / "specs").is_dir():
        return checkout / "specs"
    return None


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or one line saying why there cannot be one."""
    import socket

    if not 0 <= port <= 65535:
        raise common.CommandError(f"`--port {port}` is not a port (0 to 65535)",
                                  common.EXIT_USAGE)
    try:
        family, kind, proto, _, where = socket.getaddrinfo(host, port,
                                                           type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise common.CommandError(f"cannot listen on `{host}`: {_reason(exc)}",
                                  common.EXIT_USAGE) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(where)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise common.CommandError(f"cannot listen on {address(host, port)}: {_reason(exc)}") \
            from None
    return sock


def _reason(exc: Exception) -> str:
    import socket

    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "the port is in use; pick another with `--port`"
    if isinstance(exc, OSError) and exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if isinstance(exc, socket.gaierror):
        return "no such address"
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).lower()


def address(host: str, port: int) -> str:
    """The page's URL (`http://[::1]:8000/` for an IPv6 address)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def host_name(host: str) -> str:
    """`--host` as a Host header names it: lowercase, an IPv6 address unbracketed."""
    return host.strip("[]").lower()


def is_loopback(address: str) -> bool:
    """True when a bound address is this machine only (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(address.partition("%")[0]).is_loopback
    except ValueError:
        return False
