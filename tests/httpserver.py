"""A small threaded HTTP server on 127.0.0.1 for crawler tests.

It serves a directory tree and programmable *routes* that reproduce real-world faults
(error statuses, lying or missing charsets, hanging responses, redirect loops, oversized and
truncated bodies, binary junk). It keeps a log of every requested path so tests can assert
that something was *not* requested (robots.txt). Real sockets, no mocks: the crawler under
test goes through its full Scrapy download stack.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Route:
    """A canned response for one path.

    ``delay`` sleeps before answering (``hang`` for longer than any test timeout);
    ``declared_length`` sends a Content-Length larger than the body and closes early
    (data loss); ``send_length=False`` omits Content-Length (body ends when the connection
    closes, so the client cannot know the size up front); ``chunk_size`` streams the body in pieces (large bodies).
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    declared_length: int | None = None
    send_length: bool = True
    chunk_size: int = 64 * 1024


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean; the server keeps its own request log

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.log_request_path(self.path)
        route = self.server.routes.get(self.path) or self.server.routes.get(path)
        if route is None:
            super().do_GET()
            return
        if callable(route):
            route = route(self)
            if route is None:
                return
        self._send_route(route)

    def _send_route(self, route: Route) -> None:
        if route.delay and self.server.stopping.wait(route.delay):
            return
        try:
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if "Content-Type" not in route.headers:
                self.send_header("Content-Type", "text/html")
            length = route.declared_length if route.declared_length is not None else len(route.body)
            if route.send_length:
                self.send_header("Content-Length", str(length))
            else:
                self.close_connection = True
            self.end_headers()
            for start in range(0, len(route.body), route.chunk_size):
                self.wfile.write(route.body[start : start + route.chunk_size])
            self.wfile.flush()
            if route.declared_length is not None:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, size limit): expected in fault tests


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # hanging handlers must not block shutdown

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        self.routes: dict[str, Route | Callable[[_Handler], Route | None]] = {}
        self.request_log: list[str] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def log_request_path(self, path: str) -> None:
        with self._lock:
            self.request_log.append(path)


class SiteServer:
    """Handle used by tests: URLs, routes and the request log of a running server."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._server = _Server(self.root)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="test-http-server", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base + (path if path.startswith("/") else "/" + path)

    def write(self, path: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        """Write a file under the served directory (parents created)."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode(encoding) if isinstance(content, str) else content
        target.write_bytes(data)
        return target

    def add_route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
        declared_length: int | None = None,
        send_length: bool = True,
        encoding: str = "utf-8",
    ) -> None:
        """Serve a canned response at ``path`` (takes precedence over files)."""
        data = body.encode(encoding) if isinstance(body, str) else body
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        self._server.routes[path] = Route(
            status=status,
            body=data,
            headers=all_headers,
            delay=delay,
            declared_length=declared_length,
            send_length=send_length,
        )

    def add_handler(self, path: str, handler: Callable[[_Handler], Route | None]) -> None:
        """Compute the response per request (return None after answering by hand)."""
        self._server.routes[path] = handler

    def add_redirect(self, path: str, to: str, status: int = 302) -> None:
        """Redirect ``path`` to ``to`` (a path or absolute URL); two of them make a loop."""
        self.add_route(path, status=status, headers={"Location": to})

    def add_hang(self, path: str, seconds: float = 30.0) -> None:
        """A response that does not start for ``seconds`` (released early on stop())."""
        self.add_route(path, b"<html><body>late</body></html>", delay=seconds)

    def add_large(self, path: str, size: int, *, send_length: bool = True) -> None:
        """An HTML page of ``size`` bytes, streamed in chunks (with or without its length)."""
        filler = b"<p>" + b"x" * 1000 + b"</p>\n"
        body = b"<html><body>" + filler * (size // len(filler) + 1)
        self.add_route(
            path, body[:size], content_type="text/html; charset=utf-8", send_length=send_length
        )

    @property
    def request_log(self) -> list[str]:
        """Paths (with query) requested so far, in arrival order."""
        with self._server._lock:
            return list(self._server.request_log)

    def requested(self, path: str) -> bool:
        """True when ``path`` (exact, or without query) was requested."""
        return any(p == path or urlsplit(p).path == path for p in self.request_log)

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=3)


@contextmanager
def serve_directory(root: Path) -> Iterator[SiteServer]:
    """Run a :class:`SiteServer` on ``root`` for the duration of the block."""
    server = SiteServer(root).start()
    try:
        yield server
    finally:
        server.stop()
