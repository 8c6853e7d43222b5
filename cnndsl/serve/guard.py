"""What every response and request passes through: the Host and Origin checks
and the security headers.

Bound to loopback, the server still answers any page the user's browser opens:
a hostile site could point its own name at 127.0.0.1 (DNS rebinding) or post a
form across origins. Requests therefore must name a local host (unless `--host`
chose to serve others), and a POST must come from the page's own origin. The
page's Content-Security-Policy loads scripts only from the server itself.

Any local process (on a shared machine, any user) can reach a loopback port, so
every API request must also carry the session's secret token, which only the
person who started `cnndsl serve` sees: it is in the URL the command prints (as
Jupyter does), and the page sends it in the `X-Cnndsl-Token` header.
"""

from __future__ import annotations

import hmac
import json
import secrets

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

HEADERS = [(b"content-security-policy", POLICY.encode()),
           (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"),
           (b"cross-origin-opener-policy", b"same-origin"),
           (b"cross-origin-resource-policy", b"same-origin"),
           (b"cache-control", b"no-store")]


TOKEN_HEADER = b"x-cnndsl-token"


def new_token() -> str:
    """A fresh session secret: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def host_name(header: str) -> str:
    """The host of a Host header without its port: `[::1]:8000` -> `::1`."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: refuse foreign hosts, cross-origin posts and API calls
    without the session's token; add headers."""

    def __init__(self, app, token: str, hosts: frozenset[str] | None = LOCAL_HOSTS) -> None:
        if len(token) < 16:
            raise ValueError("the session token is too short to be a secret")
        self.app = app
        self.token = token.encode("ascii")
        self.hosts = hosts   # None: any host (the user chose `--host`)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self.refusal(scope)
        if problem is not None:
            await _refuse(send, *problem, api=scope["path"].startswith("/api/"))
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def refusal(self, scope) -> tuple[int, str] | None:
        """Why a request is refused (status, text), or None."""
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        if self.hosts is not None and host_name(host).lower() not in self.hosts:
            return 421, "this server answers only requests for localhost"
        origin = headers.get(b"origin")
        if scope["method"] not in ("GET", "HEAD") and origin is not None \
                and origin.decode("latin-1") != f"http://{host}":
            return 403, "cross-origin requests are refused"
        if scope["path"].startswith("/api/") and \
                not hmac.compare_digest(headers.get(TOKEN_HEADER, b""), self.token):
            return 403, ("this request lacks the session's token: open the address "
                         "`cnndsl serve` printed, with its ?token=")
        return None


async def _refuse(send, status: int, text: str, api: bool) -> None:
    """The refusal as the API answers (`{"error": ...}`) or as plain text."""
    body, kind = (json.dumps({"error": text}).encode(), b"application/json") if api else \
        (text.encode() + b"\n", b"text/plain; charset=utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), *HEADERS]})
    await send({"type": "http.response.body", "body": body})
