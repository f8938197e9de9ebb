"""Click tracking: merge cost per recipient, and a burst of 5,000 clicks on SQLite.

1. Merge: for 20,000 recipients of the demo issue, the time to compose each recipient's
   values and merge the HTML with click tracking on (a signed URL per link, one keyed hash
   per recipient) against the same issue with tracking off (links made literal once).
2. Burst: a sent issue of 1,000 readers on SQLite, then 5,000 clicks (5 links × 1,000
   readers, shuffled) fired as fast as 16 keep-alive connections go — faster than the
   "5,000 in a minute" a scanner wave makes. Measures latency (median, p99) and clicks/s
   against a bare redirect handler (no verification, no database) in the same run, and
   checks every click was recorded and none got an error.

Run: ``python bench/clicks.py [CLICKS]``
"""

from __future__ import annotations

import hmac
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import timeit
from base64 import urlsafe_b64encode
from dataclasses import replace
from pathlib import Path

from _common import WEEK, base_env, demo_pulse, pulse_for, workspace

from pipeline.analytics.models import Engagement
from pipeline.analytics.tokens import ClickSigner
from pipeline.delivery.compose import IssueMailer
from pipeline.delivery.models import Delivery
from pipeline.delivery.store import ClaimedDelivery
from pipeline.demo.seed import seed_week
from pipeline.issues.build import get_issue
from pipeline.issues.links import links_from_json
from pipeline.weeks import week_monday
from pipeline.workflow import weekly
from pulse_core.database import transaction

CLICKS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
READERS = 1_000
CONNECTIONS = 16
MERGE_RECIPIENTS = 20_000


def merge_cost() -> tuple[float, float, int]:
    pulse = demo_pulse(0)
    with pulse.db.sessions() as session:
        issue = get_issue(session, WEEK)
        session.expunge(issue)
    tracked_identity = pulse.identity
    assert tracked_identity.tracking is not None
    tracking = replace(tracked_identity.tracking, untracked=lambda _ids: frozenset())
    tracked = IssueMailer(issue, replace(tracked_identity, tracking=tracking), pulse.signer)
    direct = IssueMailer(issue, replace(tracked_identity, tracking=None), pulse.signer)
    rows = [ClaimedDelivery(n, n, f"r{n}@example.com", "Alex") for n in range(1, 501)]
    results = []
    for mailer in (tracked, direct):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _chunk in range(MERGE_RECIPIENTS // len(rows)):
                batch = mailer.batch(rows)
                for recipient in batch.recipients:
                    batch.html_for(recipient)
            best = min(best, time.perf_counter() - started)
        results.append(best / MERGE_RECIPIENTS * 1e6)
    links = len(links_from_json(issue.links_json))
    pulse.close()
    return results[0], results[1], links


def mint_cost(links: int) -> tuple[float, float]:
    """µs per recipient to mint ``links`` click tokens: ours, and one HMAC per link.

    The baseline is the earlier format (an HMAC-SHA1 per link, as itsdangerous signs),
    computed here in the same run with the same stdlib calls.
    """
    signer = ClickSigner(["bench-secret-key-" * 2])
    positions = list(range(links))
    key = b"k" * 20  # a derived HMAC-SHA1 key is 20 bytes

    def per_link() -> list[str]:
        tokens = []
        for p in positions:
            value = f"123456.42.{p}"
            mac = hmac.digest(key, value.encode(), "sha1")
            tokens.append(f"{value}.{urlsafe_b64encode(mac).rstrip(b'=').decode()}")
        return tokens

    def ours() -> list[str]:
        return signer.tokens(123456, 42, positions)

    runs = 20_000
    ours_us, per_link_us = (
        min(timeit.repeat(f, number=runs, repeat=7)) / runs * 1e6 for f in (ours, per_link)
    )
    return ours_us, per_link_us


def start_server(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_click_server.py")), kind],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


def fire(port: int, paths: list[str]) -> tuple[list[float], int, float]:
    """Send every path as a GET over CONNECTIONS keep-alive connections."""
    queue = list(paths)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0

    def worker() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            started = time.perf_counter()
            connection.request("GET", path, headers={"User-Agent": "Mozilla/5.0 (X11) Firefox"})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 302:
                bad += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def burst() -> None:
    folder = workspace()
    env = base_env(folder)
    pulse = pulse_for(env)
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), READERS)
    weekly.build_week(pulse, WEEK)
    weekly.send_week(pulse, WEEK)
    signer = ClickSigner(pulse.settings.secret_keys())
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, WEEK)
        positions = [link.position for link in links_from_json(issue.links_json)][:5]
        deliveries = list(
            session.scalars(Delivery.__table__.select().with_only_columns(Delivery.id))
        )
        issue_id = issue.id
    paths = [f"/c/{signer.token(d, issue_id, p)}" for d in deliveries for p in positions]
    random.Random(7).shuffle(paths)
    paths = paths[:CLICKS]
    print(f"burst: {len(paths)} clicks, {CONNECTIONS} connections, SQLite, {READERS} readers")
    for kind in ("bare", "pulse"):
        child, port = start_server(kind, env)
        try:
            fire(port, paths[:200])  # warm up (the pulse app also caches the issue's links)
            with transaction(pulse.db.sessions) as session:
                session.execute(Engagement.__table__.delete())
            latencies, errors, elapsed = fire(port, paths)
        finally:
            child.terminate()
            child.wait(timeout=20)
        ordered = sorted(latencies)
        median = statistics.median(ordered) * 1e3
        p99 = ordered[int(len(ordered) * 0.99) - 1] * 1e3
        line = (
            f"  {kind:5}: {len(paths) / elapsed:7.0f} clicks/s · median {median:6.2f} ms · "
            f"p99 {p99:6.2f} ms · errors {errors} · {elapsed:5.1f} s"
        )
        if kind == "pulse":
            with pulse.db.sessions() as session:
                recorded = session.query(Engagement).count()
            line += f" · recorded {recorded}/{len(paths)}"
            assert recorded == len(paths), "clicks were lost"
            assert errors == 0, "some clicks got an error"
            assert elapsed < 60, "the burst took longer than a minute"
        print(line)
    pulse.close()


def main() -> None:
    tracked, direct, links = merge_cost()
    print(
        f"merge per recipient ({links} tracked links): tracking on {tracked:.1f} µs · "
        f"tracking off {direct:.1f} µs · +{tracked - direct:.1f} µs "
        f"({tracked / direct:.1f}×) for a signed URL per link (one keyed hash per recipient)"
    )
    ours, per_link = mint_cost(links)
    print(
        f"minting {links} click tokens per recipient: {ours:.2f} µs (one keyed hash) · "
        f"one HMAC per link {per_link:.2f} µs ({per_link / ours:.1f}× slower)"
    )
    burst()


if __name__ == "__main__":
    main()
