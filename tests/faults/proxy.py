"""A fault-injecting HTTP proxy in front of a real OpenAI-compatible server (127.0.0.1 only).

Each request is classified (`update` when it asks the optimizer for an `<IMPROVED_VARIABLE>`
rewrite, else `other`) and takes the next action of that kind's plan, then of the `any` plan, and
then `ok`:

    ok        forward to the upstream server and return its reply
    drop      close the connection without a reply
    500, 429  an error reply (429 with `retry-after-ms: 50`)
    stall     hold the connection `stall_s` seconds (past the client's timeout), then close it
    badjson   200 with a body that is not JSON
    nochoices 200 with a JSON reply without choices
    notags    a 200 reply whose text is prose without the optimizer's tags (the model is not asked)
    garbage   a 200 reply whose text is binary-looking junk
    empty     a 200 reply with an empty text

When the upstream is down the proxy answers 502. Every request is logged with `wire_key` (a
hash of what the client sent) so tests can count calls made twice; `max_tokens_cap` lowers
`max_tokens` on the way up (and `cache_prompt` is turned off so replies do not depend on which
earlier request left its prefix in the server's KV cache; `prompt_cache=True` keeps it, for
benchmarks). Records also keep the reply's token usage and the time it was answered.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NO_TAGS_REPLY = "The prompt looks fine to me. I would keep it as it is and maybe add an example."
GARBAGE_REPLY = "\x00\x07\ufffd#@!%\ufffd\ufffd ]]>}}{{ \x1b[31m\ufffd\x00 <IMPROV  ~~~ \ufffd"
REPLACING = {"notags": NO_TAGS_REPLY, "garbage": GARBAGE_REPLY, "empty": ""}
FAULTS = ("drop", "500", "429", "stall", "badjson", "nochoices", "notags", "garbage", "empty", "502")


def wire_key(body: dict[str, Any]) -> str:
    """What identifies one call on the wire (the model, messages and sampling parameters)."""
    keep = {k: body.get(k) for k in ("model", "messages", "temperature", "max_tokens", "seed", "stop")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def request_kind(body: dict[str, Any]) -> str:
    """`update` for the optimizer's rewrite requests: tagged ones, and the JSON sentence-edit ones
    (structured output) that engines with `response_format` get."""
    text = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
    return "update" if "IMPROVED_VARIABLE" in text or body.get("response_format") else "other"


@dataclass
class Record:
    kind: str
    action: str
    key: str
    status: int  # HTTP status returned (0 = no reply)
    completed: bool  # the upstream produced a reply that was returned (possibly rewritten)
    t_end: float = 0.0  # time.time() when the request was answered (or dropped)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        stall_s: float = 30.0,
        max_tokens_cap: int | None = None,
        prompt_cache: bool = False,
    ) -> None:
        self.upstream_port = upstream_port
        self.prompt_cache = prompt_cache
        self.stall_s = stall_s
        self.max_tokens_cap = max_tokens_cap
        self.plans: dict[str, list[str]] = {}
        self.log: list[Record] = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def plan(self, kind: str, *actions: str) -> None:
        with self.lock:
            self.plans[kind] = list(actions)

    def faults(self) -> Counter:
        """Injected faults by action (upstream-down 502s included)."""
        return Counter(r.action for r in self.log if r.action != "ok")

    def completed_keys(self) -> list[str]:
        return [r.key for r in self.log if r.completed]

    def _next(self, kind: str) -> str:
        with self.lock:
            for name in (kind, "any"):
                queue = self.plans.get(name)
                if queue:
                    return queue.pop(0)
            return "ok"

    def _forward(self, body: dict[str, Any], path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        sent = dict(body)
        if self.max_tokens_cap is not None and sent.get("max_tokens"):
            sent["max_tokens"] = min(int(sent["max_tokens"]), self.max_tokens_cap)
        if not self.prompt_cache:
            sent["cache_prompt"] = False
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=600)
        try:
            conn.request("POST", path, body=json.dumps(sent), headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models, /health: passed through without faults
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
                    conn.request("GET", self.path)
                    response = conn.getresponse()
                    self._reply(response.status, response.read())
                except OSError:
                    self._reply(502, b'{"error": {"message": "upstream down"}}')

            def _reply(self, status: int, data: bytes, extra: dict[str, str] | None = None) -> bool:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (extra or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                    return True
                except OSError:
                    return False

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                kind = request_kind(body)
                action = proxy._next(kind)
                record = Record(kind, action, wire_key(body), 0, False)
                try:
                    self._act(action, body, record)
                finally:
                    record.t_end = time.time()
                    with proxy.lock:
                        proxy.log.append(record)

            def _error(self, record: Record, status: int, extra: dict[str, str] | None = None) -> None:
                record.status = status
                self._reply(status, json.dumps({"error": {"message": f"injected {status}"}}).encode(), extra)

            def _act(self, action: str, body: dict[str, Any], record: Record) -> None:
                if action == "drop":
                    self.close_connection = True
                    return
                if action == "stall":
                    proxy._stop.wait(proxy.stall_s)
                    self.close_connection = True
                    return
                if action == "500":
                    return self._error(record, 500)
                if action == "429":
                    return self._error(record, 429, {"retry-after-ms": "50"})
                if action == "badjson":
                    record.status = 200
                    self._reply(200, b'{"id": "x", "choices": [ this is not json')
                    return
                if action == "nochoices":
                    record.status = 200
                    self._reply(
                        200, json.dumps({"id": "x", "object": "chat.completion", "choices": []}).encode()
                    )
                    return
                if action in REPLACING:  # a malformed "model reply", made up without asking the model
                    record.status = 200
                    self._reply(200, json.dumps(_completion(body, REPLACING[action])).encode())
                    return
                headers = {"Content-Type": "application/json"}
                if auth := self.headers.get("Authorization"):
                    headers["Authorization"] = auth
                try:
                    status, data = proxy._forward(body, self.path, headers)
                except OSError:
                    record.action = "502"  # the upstream server is down (killed, restarting)
                    return self._error(record, 502)
                record.status = status
                record.completed = status == 200
                if record.completed:
                    usage = json.loads(data).get("usage") or {}
                    record.prompt_tokens = int(usage.get("prompt_tokens") or 0)
                    record.completion_tokens = int(usage.get("completion_tokens") or 0)
                self._reply(status, data)

        return Handler

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-injected",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
