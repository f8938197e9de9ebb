"""A loopback server that speaks the three boards' documented APIs, plus job pages and feeds.

Routes (each provider under its own prefix, which is what PULSE_*_API_URL points at):

- ``/gh/v1/boards/{board}/jobs[?content=true]`` and ``/gh/v1/boards/{board}/jobs/{id}
  [?pay_transparency=true]`` — Greenhouse Job Board API. ``content`` only with content=true;
  ``pay_input_ranges`` only on the single-job call with pay_transparency=true (as documented).
- ``/lever/v0/postings/{site}?mode=json&skip=N&limit=M`` — Lever Postings API: a bare list.
  An unknown site answers 404 ``{"ok": false, "error": "Document not found"}`` (the error
  shape the README documents for errors, ``{ok:false, error:<error string>}``).
- ``/ashby/posting-api/job-board/{name}[?includeCompensation=true]`` — Ashby: ``apiVersion``
  and ``jobs``; ``compensation`` only when asked for.
- ``/pages/...`` — a posting's public page: 200, or 404/410 once the job is closed.
- ``/feeds/{name}`` — RSS/Atom with an ETag; If-None-Match answers 304 (RFC 9110 §13.1.2).

Unknown boards answer 404 (all three documented or observed to do so). ``delay`` makes a
path slow; ``fail_next`` queues 5xx/429 answers for a path prefix.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class BoardServer:
    def __init__(self) -> None:
        self.greenhouse: dict[str, list[dict[str, Any]]] = {}
        self.greenhouse_pay: dict[int, list[dict[str, Any]]] = {}
        self.lever: dict[str, list[dict[str, Any]]] = {}
        self.ashby: dict[str, list[dict[str, Any]]] = {}
        self.feeds: dict[str, tuple[str, str]] = {}  # name → (body, etag)
        self.closed_pages: dict[str, int] = {}  # path → 404 or 410
        self.delay: dict[str, float] = {}  # path prefix → seconds
        self.fail_next: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.board = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> BoardServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for path, _headers in self.requests if path.startswith(prefix))

    # Routing ---------------------------------------------------------------------------

    def answer(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = [p for p in path.split("/") if p]
        flag = lambda name: (query.get(name) or [""])[0] == "true"  # noqa: E731
        if parts[:3] == ["gh", "v1", "boards"] and len(parts) in (5, 6) and parts[4] == "jobs":
            jobs = self.greenhouse.get(parts[3])
            if jobs is None:
                return _json(404, {"status": 404, "error": "Job board not found"})
            if len(parts) == 5:
                listed = [
                    {
                        k: v
                        for k, v in job.items()
                        if flag("content") or k not in ("content", "departments", "offices")
                    }
                    for job in jobs
                ]
                return _json(200, {"jobs": listed, "meta": {"total": len(listed)}})
            job = next((j for j in jobs if str(j["id"]) == parts[5]), None)
            if job is None:
                return _json(404, {"status": 404, "error": "Job not found"})
            detail = dict(job)
            if flag("pay_transparency"):
                detail["pay_input_ranges"] = self.greenhouse_pay.get(job["id"], [])
            return _json(200, detail)
        if parts[:3] == ["lever", "v0", "postings"] and len(parts) == 4:
            postings = self.lever.get(parts[3])
            if postings is None:
                return _json(404, {"ok": False, "error": "Document not found"})
            skip = int((query.get("skip") or ["0"])[0])
            limit = int((query.get("limit") or [str(len(postings))])[0])
            return _json(200, postings[skip : skip + limit])
        if parts[:3] == ["ashby", "posting-api", "job-board"] and len(parts) == 4:
            jobs = self.ashby.get(parts[3])
            if jobs is None:
                return _json(404, {"success": False})
            shown = [
                {k: v for k, v in job.items() if flag("includeCompensation") or k != "compensation"}
                for job in jobs
            ]
            return _json(200, {"apiVersion": "1", "jobs": shown})
        if parts[:1] == ["pages"]:
            status = self.closed_pages.get(path)
            if status:
                return status, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"
            return 200, {"Content-Type": "text/html"}, b"<h1>A job</h1>"
        if parts[:1] == ["feeds"] and len(parts) == 2 and parts[1] in self.feeds:
            body, etag = self.feeds[parts[1]]
            if headers.get("if-none-match") == etag:
                return 304, {"ETag": etag}, b""
            return 200, {"Content-Type": "application/rss+xml", "ETag": etag}, body.encode()
        return 404, {"Content-Type": "text/plain"}, b"not found"


def _json(status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits for the
    # delayed ACK (~40 ms) on every request — a fake's artefact, not a board's.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        board: BoardServer = self.server.board  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with board.lock:
            board.requests.append((split.path, headers))
            failures = next(
                (q for prefix, q in board.fail_next.items() if split.path.startswith(prefix) and q),
                None,
            )
            failure = failures.popleft() if failures else None
        delay = next((d for p, d in board.delay.items() if split.path.startswith(p)), 0.0)
        if delay:
            time.sleep(delay)
        if failure is not None:
            status, extra = failure
            reply: tuple[int, dict[str, str], bytes] = (status, extra, b'{"error":"busy"}')
        else:
            reply = board.answer(split.path, parse_qs(split.query), headers)
        status, reply_headers, body = reply
        try:
            self.send_response(status)
            for name, value in reply_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
