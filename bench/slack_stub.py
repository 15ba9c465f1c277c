"""A minimal local stand-in for the Slack Web API, enough for the benchmarks.

Bolt calls `auth.test` once, on the first request it serves; every other method answers
`unknown_method`, so a server that calls Slack while acknowledging a command shows up in
`calls` rather than going unnoticed. With `post_message=True` it also answers
`chat.postMessage` like Slack (`ok`, the channel and a `ts`) and counts the posts per channel
in `channels`, for the outbox benchmarks, without the stand-in's state keeping and the tests'
contract checks.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

AUTH_TEST = {
    "ok": True,
    "team_id": "T0001",
    "user_id": "UBOT",
    "bot_id": "BBOT",
    "team": "Bench",
    "user": "saydo",
    "url": "https://bench.slack.com/",
}


class SlackStub:
    """Serves `POST /api/<method>` on 127.0.0.1 from a daemon thread; counts calls per method."""

    def __init__(self, *, post_message: bool = False) -> None:
        self.calls: Counter[str] = Counter()
        self.channels: Counter[str] = Counter()
        self.post_message = post_message
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The Web API base URL, for `SLACK_API_URL` or `WebClient(base_url=...)`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> SlackStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> SlackStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _posted(self, content_type: str, raw: bytes) -> dict:
        """Answer one `chat.postMessage` (called with the lock held)."""
        if "json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        channel = args.get("channel") or ""
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        self.channels[channel] += 1
        ts = f"1700000000.{sum(self.channels.values()):06d}"
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
                with stub._lock:
                    stub.calls[method] += 1
                    answer = (
                        AUTH_TEST
                        if method == "auth.test"
                        else stub._posted(self.headers.get("Content-Type", ""), raw)
                        if method == "chat.postMessage" and stub.post_message
                        else {"ok": False, "error": "unknown_method"}
                    )
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
