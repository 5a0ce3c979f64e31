"""Run the app under uvicorn on a socket we bind ourselves, so that a bad address or a
port in use is a one-line error (:class:`~anrc.errors.AnrcInputError`), not a traceback."""

from __future__ import annotations

import socket

import uvicorn

from anrc.errors import AnrcInputError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    if not 0 <= port <= 65535:
        raise AnrcInputError(f"--port {port}: a port is a number from 0 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise AnrcInputError(
            f"--host {host}: not an address of this machine ({err.strerror})"
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise AnrcInputError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.set_inheritable(True)
    return sock


def serve(app, sock: socket.socket, log_level: str = "warning") -> None:
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level))
    server.run(sockets=[sock])
