"""A loopback web server for the bundled sample site, with a switch for the second phase.

Phase 1 serves `demo_site/base/`; phase 2 serves `demo_site/batch2/` on top of it (files there are
added or replace base ones), which is how the demo shows a second-batch announcement appearing
between two crawls. Government pages are served as `text/html` without a charset, as many
provincial sites do, so the crawler must find GBK in the page itself.
"""

from __future__ import annotations

import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEMO_SITE = Path(__file__).resolve().parent / "demo_site"


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.server.site.resolve(self.path)
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        body = path.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", _content_type(path))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        self.server.site.requests.append(self.path)


def _content_type(path: Path) -> str:
    if path.suffix in (".html", ".htm"):
        return "text/html"
    if path.suffix == ".xml":
        return "application/rss+xml" if "rss" in path.name else "application/xml"
    if path.name == "robots.txt":
        return "text/plain; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class SampleSite:
    """Layered document roots: the first root holding a path wins."""

    def __init__(self, root: Path = DEMO_SITE) -> None:
        self.root = root
        self.phase = 1
        self.requests: list[str] = []

    def layers(self) -> list[Path]:
        base = self.root / "base"
        return [self.root / "batch2", base] if self.phase >= 2 else [base]

    def resolve(self, raw_path: str) -> Path | None:
        rel = unquote(urlsplit(raw_path).path).lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        for layer in self.layers():
            candidate = (layer / rel).resolve()
            if layer.resolve() in candidate.parents and candidate.is_file():
                return candidate
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: SampleSite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site


class DemoServer:
    """`with DemoServer() as srv:` serves the sample site on 127.0.0.1 at `srv.base_url`."""

    def __init__(self, root: Path = DEMO_SITE) -> None:
        self.site = SampleSite(root)
        self._server = _Server(self.site)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def set_phase(self, phase: int) -> None:
        self.site.phase = phase

    def __enter__(self) -> "DemoServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _HookHandler(BaseHTTPRequestHandler):
    server: "_HookServer"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append(self.rfile.read(length))
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _HookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.received: list[bytes] = []


class WebhookReceiver:
    """A JSON webhook endpoint on 127.0.0.1 that keeps what it is sent: the demo's alert channel,
    so the demo shows delivery without sending anything beyond this machine."""

    def __init__(self) -> None:
        self._server = _HookServer()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def received(self) -> list[bytes]:
        return self._server.received

    @property
    def channel_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"json://{host}:{port}/parkwatch-demo"

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
