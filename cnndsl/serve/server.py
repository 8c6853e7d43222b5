"""The HTTP server under the playground: uvicorn's h11 protocol with one more
timeout. uvicorn closes a keep-alive connection that stays idle after a
response, but a connection that never sends a request, or sends half of its
headers, is held forever; here each request's headers must arrive within
`HEADER_SECONDS` of the connection opening (or of the last response). The body
has its own bound (`bodies.BODY_SECONDS`).
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0


class Protocol(H11Protocol):
    """h11 with a deadline on each request's headers."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()   # a request's headers are in: the app (and its body bound) has it

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.header_seconds, self._expire)

    def _disarm(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def config(app, header_seconds: float = HEADER_SECONDS) -> uvicorn.Config:
    """uvicorn's settings for the playground: quiet, h11 with the header deadline."""
    protocol = type("Protocol", (Protocol,), {"header_seconds": header_seconds})
    return uvicorn.Config(app, http=protocol, log_level="warning", access_log=False,
                          lifespan="on", timeout_keep_alive=5)


def serve(app, sock: socket.socket, header_seconds: float = HEADER_SECONDS) -> None:
    """Answer on `sock` until interrupted."""
    uvicorn.Server(config(app, header_seconds)).run(sockets=[sock])
