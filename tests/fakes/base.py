"""The HTTP server, fault injection and bookkeeping shared by every fake provider."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Fault:
    """What to do to the next request instead of (or after) answering it normally.

    ``status``: answer with this status, headers and body; ``timeout``: wait ``delay``
    seconds before answering normally (clients time out first); ``drop``: close the
    connection without an answer; ``accept_then_drop``: accept and record the messages,
    then close the connection without an answer (the client cannot know they were sent);
    ``accept_then_stall``: accept and record them, then answer only after ``delay`` seconds
    (a client timeout after the provider took the call); ``pass``: answer normally (to
    aim a later fault at a later request).
    """

    kind: Literal["status", "timeout", "drop", "accept_then_drop", "accept_then_stall", "pass"]
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"{}"
    delay: float = 0.0


@dataclass(frozen=True)
class Call:
    """One request the server took: when, how big, and how many recipients it carried."""

    at: float
    path: str
    size: int
    recipients: int


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path != "/_fake/stats":
            self._reply((404, {}, b"{}"))
            return
        self._reply((200, {}, json.dumps(fake.stats()).encode()))

    def do_POST(self) -> None:
        fake = self.server.fake
        fake.arrival.value = time.time()  # a provider counts a request when it arrives
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        fault = fake.next_fault()
        if fake.latency:
            time.sleep(fake.latency)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "status":
            self._reply((fault.status, fault.headers, fault.body))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = fake.handle(self.path, headers, body)
        except Exception as err:  # a bug in the fake must show up in the test, not hang it
            fake.errors.append(repr(err))
            reply = (500, {}, json.dumps({"error": repr(err)}).encode())
        if fault is not None and fault.kind == "accept_then_drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "accept_then_stall":
            time.sleep(fault.delay)
        self._reply(reply)

    def _reply(self, reply: Reply) -> None:
        status, headers, body = reply
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeProvider) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeProvider:
    """Base class: subclasses implement :meth:`handle` for their provider's endpoint."""

    name = "fake"
    max_batch = 1000

    def __init__(
        self,
        credential: str = "test-credential",
        *,
        latency: float = 0.0,
        validate: bool = True,
        keep_messages: bool = True,
    ) -> None:
        self.credential = credential
        self.latency = latency
        self.validate = validate
        self.keep_messages = keep_messages
        self.accepted: Counter[str] = Counter()
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()
        # Odd answers on demand, each given the way its provider documents it:
        self.rejected_addresses: set[str] = set()  # suppressed/inactive: refused per message
        self.bad_addresses: set[str] = set()  # addresses the provider calls invalid
        self.delayed_addresses: set[str] = set()  # accepted, "delivery may be delayed"
        self.account_refusal = False  # the account or sender may not send
        self.quota: int | None = None  # messages accepted before the account's quota is hit
        self.errors: list[str] = []  # contract violations and fake bugs seen
        self.lock = threading.Lock()
        self.arrival = threading.local()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeProvider:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # What tests use --------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Totals for reports: messages, distinct recipients, worst repeat, calls, bytes."""
        with self.lock:
            return {
                "messages": sum(self.accepted.values()),
                "recipients": len(self.accepted),
                "max_per_recipient": max(self.accepted.values(), default=0),
                "calls": len(self.calls),
                "bytes": sum(call.size for call in self.calls),
            }

    def next_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def record(self, email: str, message: dict[str, Any], path: str = "") -> None:
        with self.lock:
            self.accepted[email.lower()] += 1
            if self.keep_messages:
                self.messages.setdefault(email.lower(), []).append(message)

    def note_call(self, path: str, size: int, recipients: int) -> None:
        with self.lock:
            at = getattr(self.arrival, "value", None) or time.time()
            self.calls.append(Call(at, path, size, recipients))

    def quota_left(self) -> bool:
        """Whether one more message fits the account's quota (and spends it)."""
        with self.lock:
            if self.quota is None:
                return True
            if self.quota <= 0:
                return False
            self.quota -= 1
            return True

    def invalid(self, problems: list[str]) -> Reply | None:
        """A 400/422 answer when the request breaks the provider's contract."""
        if not problems:
            return None
        with self.lock:
            self.errors.extend(problems)
        return self.contract_error(problems)

    def contract_error(self, problems: list[str]) -> Reply:
        return 400, {}, json.dumps({"errors": problems[:5]}).encode()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        raise NotImplementedError
