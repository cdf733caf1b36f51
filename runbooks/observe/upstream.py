"""A fake provider on 127.0.0.1: answers the proxy with the response an error entry documents, and counts requests."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

BASE_PATHS = {
    "openai": "/v1",
    "gemini": "/v1beta",
    "anthropic": "",
    "deepseek": "",
    "zai": "/api/paas/v4",
}
"""What follows `/<provider>` in the api_base each LiteLLM prefix is given, so that LiteLLM builds the paths the
real provider serves (`/v1/chat/completions`, `/v1beta/models/<model>:generateContent`, `/v1/messages`, …)."""


@dataclass(frozen=True)
class Reply:
    """What the fake answers for one provider: an HTTP status and a body."""

    status: int
    body: bytes


def completion(model: str) -> Reply:
    """A successful OpenAI-style chat completion with one token each way."""
    body = {
        "id": "chatcmpl-observe",
        "object": "chat.completion",
        "created": 1764547200,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return Reply(200, json.dumps(body).encode("utf-8"))


class FakeUpstream:
    """An HTTP server on a free loopback port; `/<provider>/…` answers with that provider's planned reply.

    Only the requests that ask for a completion are counted: LiteLLM also lists models at start-up.
    """

    def __init__(self) -> None:
        self._plans: dict[str, Reply] = {}
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-upstream", daemon=True)

    @property
    def url(self) -> str:
        """The server's address, e.g. http://127.0.0.1:40123."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def api_base(self, prefix: str) -> str:
        """The api_base that sends LiteLLM's `prefix/` deployments here."""
        return f"{self.url}/{prefix}{BASE_PATHS[prefix]}"

    def answer(self, prefix: str, reply: Reply) -> None:
        """From now on, answer every request for `prefix` with `reply`."""
        with self._lock:
            self._plans[prefix] = reply

    def hits(self, prefix: str | None = None) -> int:
        """How many completion requests reached `prefix` (every provider when None) since the last reset."""
        with self._lock:
            return sum(self._hits.values()) if prefix is None else self._hits[prefix]

    def reset(self) -> None:
        """Forget the requests counted so far."""
        with self._lock:
            self._hits.clear()

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Keep the fake quiet; the proxy's log is what is observed."""

            def do_GET(self) -> None:
                self._reply(Reply(200, b'{"object": "list", "data": []}'))

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                prefix = self.path.strip("/").split("/", 1)[0]
                with fake._lock:
                    fake._hits[prefix] += 1
                    plan = fake._plans.get(prefix)
                self._reply(plan or Reply(500, b'{"error": {"message": "the fake upstream has no plan"}}'))

            def _reply(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        return Handler
