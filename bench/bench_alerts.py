"""Alert delivery: messages per second to a loopback JSON webhook, and the cost of a pass that
finds nothing due (what the 10-minute `alerts-retry` job pays when all is quiet).

    python bench/bench_alerts.py [--notices 1000] [--channels 3]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.channels import parse_channels  # noqa: E402
from reports.delivery import DeliveryOptions, deliver_due  # noqa: E402
from store.db import init_schema, make_engine, session_factory, sqlite_url  # noqa: E402
from store.models import Alert, AlertNotice, Park  # noqa: E402


class _Ok(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def build(sessions, notices: int) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        for i in range(notices):
            parks = [Park(kb_id=f"park:found:{i}-{j}", name_zh=f"示例{i}-{j}5G+工业互联网应用示范园区", origin="found",
                          status="new", aliases=[], batch=2) for j in range(2)]
            s.add_all(parks)
            s.flush()
            notice = AlertNotice(kind="new_park", idempotency_key=f"pw-bench-{i}", payload={
                "kind": "new_park", "source": "bench", "url": f"http://bench.test/{i}", "title": "通知",
                "published_at": None,
                "parks": [{"kb_id": p.kb_id, "name_zh": p.name_zh, "name_en": None, "city": "city:zhuhai",
                           "city_name": {"zh": "珠海", "en": "Zhuhai"}, "company_name": "示例", "batch": 2,
                           "sentence": f"名单包括{p.name_zh}。"} for p in parks]})
            s.add(notice)
            s.flush()
            s.add_all([Alert(kind="new_park", park_id=p.id, notice_id=notice.id, payload={}) for p in parks])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(sqlite_url(Path(tmp) / "bench.db"))
        init_schema(engine)
        sessions = session_factory(engine)
        build(sessions, args.notices)
        channels = parse_channels(" ".join(f"json://127.0.0.1:{port}/c{i}" for i in range(args.channels)))
        options = DeliveryOptions(timeout_seconds=5)
        started = time.perf_counter()
        report = deliver_due(sessions, channels, options)
        elapsed = time.perf_counter() - started
        idle = []
        for _ in range(5):
            t = time.perf_counter()
            deliver_due(sessions, channels, options)
            idle.append(time.perf_counter() - t)
        engine.dispose()
    server.shutdown()
    sent = report.sent
    print(f"delivered {sent} messages ({args.notices} notices x {args.channels} channels) in {elapsed:.2f} s: "
          f"{sent / elapsed:.0f} messages/s, {1000 * elapsed / max(sent, 1):.1f} ms each (claim, render, send, mark)")
    print(f"idle pass over {sent} sent deliveries: best {1000 * min(idle):.0f} ms")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
