"""A tiny stand-in for the email service that counts what it receives, by message id.

The app and the outbox workers post here (EMAIL_SERVICE_URL) during a benchmark. It checks the
signature as the real service does, answers at once, and remembers how often each `id` (the
outbox idempotency key) arrived, so the harness can prove "each message exactly once":
GET /stats answers {"received": N, "ids": {id: count}}; POST /reset forgets everything.
"""

import argparse
import hashlib
import hmac
import json
import os
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, secret: str):
        super().__init__(address, Handler)
        self.secret = secret.encode()
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()


class Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle holds the body back until the
    # client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def do_POST(self):  # noqa: N802 - the http.server protocol
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/reset":
            with self.server.lock:
                self.server.counts.clear()
            return self._answer(200, {"ok": True})
        expected = "sha256=" + hmac.new(self.server.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Signature", "")):
            return self._answer(401, {"ok": False, "error": "bad signature"})
        try:
            message_id = str(json.loads(body)["id"])
        except (ValueError, KeyError, TypeError):
            return self._answer(400, {"ok": False, "error": "no id"})
        with self.server.lock:
            self.server.counts[message_id] += 1
        return self._answer(200, {"ok": True, "message_id": message_id})

    def do_GET(self):  # noqa: N802
        with self.server.lock:
            counts = dict(self.server.counts)
        self._answer(200, {"received": sum(counts.values()), "ids": counts})

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):  # one line per email would drown the benchmark's output
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = Receiver(("127.0.0.1", args.port), os.environ["EMAIL_SERVICE_SECRET"])
    server.serve_forever()


if __name__ == "__main__":
    main()
