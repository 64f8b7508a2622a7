"""A scriptable fake OpenAI-compatible server on 127.0.0.1 (stdlib http.server in a thread).

Each request's behaviour is taken from a per-model plan (a list of actions consumed in order,
then "ok"), so every test picks its own model name and gets its own script:

    ok | 429 (Retry-After: 1) | 429date (Retry-After as HTTP date) | 500 | 503 | slow (sleeps
    `slow_s` before answering) | drop (closes the connection without a reply) | 401 | 403 | 404 |
    422 | ctx400 (context-length 400) | leak401 (401 whose message echoes the bearer key)
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeOpenAI:
    def __init__(self) -> None:
        self.plans: dict[str, list[str]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.bodies: dict[str, list[dict]] = defaultdict(list)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)  # per model, so stray slow replies don't count
        self.slow_s = 1.5
        self.reply_delay_s = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def plan(self, model: str, *actions: str) -> str:
        self.plans[model] = list(actions)
        return model

    def _next(self, model: str) -> str:
        with self.lock:
            self.hits[model] += 1
            queue = self.plans.get(model, [])
            return queue.pop(0) if queue else "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
                self._send(status, {"error": {"message": message, "type": "test", "code": status}}, headers)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                model = body.get("model", "")
                fake.bodies[model].append(body)
                action = fake._next(model)
                with fake.lock:
                    fake.in_flight[model] += 1
                    fake.max_in_flight[model] = max(fake.max_in_flight[model], fake.in_flight[model])
                try:
                    self._act(action, body)
                finally:
                    with fake.lock:
                        fake.in_flight[model] -= 1

            def _act(self, action: str, body: dict) -> None:
                model = body.get("model", "")
                if action == "429":
                    return self._error(429, "slow down", {"Retry-After": "1"})
                if action == "429date":
                    return self._error(
                        429, "slow down", {"Retry-After": formatdate(time.time() + 3, usegmt=True)}
                    )
                if action in ("500", "503"):
                    return self._error(int(action), "server trouble")
                if action == "drop":
                    self.close_connection = True
                    return None
                if action == "slow":
                    time.sleep(fake.slow_s)
                if action == "401":
                    return self._error(401, "Invalid API key")
                if action == "leak401":
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    return self._error(401, f"Incorrect API key provided: {key}")
                if action == "403":
                    return self._error(403, "forbidden")
                if action == "404":
                    return self._error(404, f"The model `{model}` does not exist")
                if action == "422":
                    return self._error(422, "unprocessable")
                if action == "ctx400":
                    return self._error(400, "This model's maximum context length is 2048 tokens")
                if fake.reply_delay_s:
                    time.sleep(fake.reply_delay_s)
                user = body["messages"][-1]["content"]
                return self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": f"echo: {user}"},
                                "finish_reason": "length" if body.get("max_tokens") == 1 else "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
                        "timings": {"prompt_ms": 1.5, "predicted_ms": 2.5},
                    },
                )

        return Handler

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake_openai():
    server = FakeOpenAI().start()
    yield server
    server.stop()
