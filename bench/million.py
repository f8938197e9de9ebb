"""A million on one machine: creating the deliveries and sending on PostgreSQL, per process.

    python bench/million.py [--subscribers 100000] [--workers 3] [--concurrency 4]
                            [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

``--workers 0`` runs the one process only.

On a throwaway database (made on the ``--postgres`` server, or PULSE_BENCH_POSTGRES_URL,
and dropped after), with the list seeded by the server itself:

1. **creating the deliveries**: ``begin_send`` (one INSERT … SELECT) for the whole list;
2. **one process**: ``pulse issue send`` alone against a local Postmark server;
3. **one process + workers**: ``pulse issue send`` with ``--workers`` ``pulse worker
   --exit-when-idle`` processes joining once the send is under way;
4. **the bare sender** (before and after, same server build): pre-rendered batches posted
   by the same number of threads, the floor any client could reach.

Each send is counted at its own server: every recipient exactly once. For each process:
peak resident memory and CPU seconds (``os.wait4``), what it printed, and for the workers
how long after the issue was sent they exited. Then the database's size per recipient and
the rows written, commits and WAL bytes per message.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime

import _processes
from _common import (
    WEEK,
    bare_bodies,
    bare_send,
    fake_server,
    provider_env,
    pulse_for,
    server_stats,
    timed,
    workspace,
)
from _postgres import (
    BackendCpu,
    analyze,
    reset_send,
    seed_subscribers,
    server_url,
    table_bytes,
    throwaway_database,
    write_counters,
)
from sqlalchemy import func, select

from pipeline.delivery.models import Delivery
from pipeline.delivery.send_state import begin_send
from pipeline.demo.seed import seed_content
from pipeline.issues.models import Issue, IssueStatus
from pipeline.weeks import week_monday
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction

SEND = ["issue", "send", "--week", WEEK, "--yes"]
WORKER = ["worker", "--exit-when-idle", "--poll", "1"]


def issue_state(pulse: Pulse) -> tuple[IssueStatus, datetime | None]:
    with transaction(pulse.db.sessions) as session:
        status, sent_at = session.execute(select(Issue.status, Issue.sent_at)).one()
    return status, sent_at


def wait_until(check: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the send never got under way")
        time.sleep(0.05)


def create_deliveries(pulse: Pulse, count: int) -> float:
    started = time.perf_counter()
    _issue, created = begin_send(pulse.db.sessions, WEEK)
    elapsed = time.perf_counter() - started
    assert created == count, (created, count)
    print(
        f"  creating the deliveries: {elapsed:.1f}s for {count:,} "
        f"({count / elapsed:,.0f} rows/s; target < 30 s for 1,000,000)",
        flush=True,
    )
    analyze(pulse.db.engine)
    size = table_bytes(pulse.db.engine, "deliveries")
    print(f"  deliveries table (pending): {size / count:,.0f} bytes per recipient")
    reset_send(pulse.db.engine)
    return elapsed


def send(
    pulse: Pulse, env: dict[str, str], count: int, workers: int, label: str
) -> dict[str, float]:
    """One send to its own server; prints per-process figures, returns the totals."""
    reset_send(pulse.db.engine)
    with fake_server("postmark") as url:
        run_env = _processes.child_env(env | provider_env("postmark", url))
        before = write_counters(pulse.db.engine)
        started = time.time()
        with BackendCpu(pulse.db.engine) as server_cpu:
            children = [_processes.start("send", SEND, run_env)]
            if workers:
                # Joining once the send is under way, as an operator's extra workers would.
                wait_until(lambda: issue_state(pulse)[0] is not IssueStatus.BUILT)
                children += [
                    _processes.start(f"worker{n}", WORKER, run_env | {"PULSE_HOST_ID": f"host{n}"})
                    for n in range(1, workers + 1)
                ]
            ended = _processes.finish(children)
        stats = server_stats(url)
    status, sent_at = issue_state(pulse)
    time.sleep(1.0)  # the statistics collector lags a moment behind the commits
    after = write_counters(pulse.db.engine)
    assert status is IssueStatus.SENT and sent_at is not None, status
    finished = sent_at.timestamp()
    seconds = finished - started
    print(f"  {label}: {count / seconds:,.0f} messages/s ({seconds:.1f}s to the issue sent)")
    exactly_once = stats["recipients"] == count and stats["max_per_recipient"] == 1
    print(
        f"    at the server: {stats['messages']:,} messages, {stats['recipients']:,} "
        f"recipients, most to one {stats['max_per_recipient']} "
        f"({'exactly once' if exactly_once else 'NOT exactly once'})"
    )
    for child in ended:
        last = (child.stdout.strip().splitlines() or [""])[-1]
        print(
            f"    {child.name}: exit {child.returncode}, peak {child.peak_mb:.0f} MB, "
            f"CPU {child.cpu_seconds:.1f}s, ended {child.ended_at - finished:+.1f}s after "
            f"the issue was sent; said: {last}"
        )
        if child.returncode != 0:
            print(f"      stderr: {child.stderr.strip()[-500:]}")
    cpu = sum(child.cpu_seconds for child in ended)
    written = {name: after[name] - before[name] for name in after}
    database_us = (
        f"{server_cpu.seconds / count * 1e6:,.0f} µs" if server_cpu.seconds is not None else "n/a"
    )
    print(
        f"    per message: {cpu / count * 1e6:,.0f} µs of sender CPU, {database_us} of "
        "PostgreSQL backends' CPU (the deliveries were created in the run), "
        f"{written['rows'] / count:.2f} rows written, {written['commits'] / count:.3f} commits, "
        f"{written['wal_bytes'] / count:,.0f} WAL bytes"
    )
    assert exactly_once, stats
    return {
        "rate": count / seconds,
        "peak_mb": max(child.peak_mb for child in ended),
        "cpu_us": cpu / count * 1e6,
    }


def bare(pulse: Pulse, count: int, threads: int) -> float:
    with fake_server("postmark") as url:
        rate = bare_send(url, bare_bodies(pulse, url), count, threads)
    print(f"  bare sender ({threads} threads, {count:,} messages): {rate:,.0f} messages/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--postgres", default=server_url())
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    count = args.subscribers
    with throwaway_database(args.postgres, keep=args.keep) as url:
        print(f"a million on one machine: {count:,} subscribers, PostgreSQL {url}", flush=True)
        folder = workspace()
        env = {
            "PULSE_DATABASE_URL": url,
            "PULSE_VAR_DIR": str(folder / "var"),
            "PULSE_OUTBOX_DIR": str(folder / "var" / "outbox"),
            "PULSE_POSTAL_ADDRESS": "AISE Pulse Brief, 100 Example Street, Springfield, IL 62701",
            "PULSE_SEND_CONCURRENCY": str(args.concurrency),
            "PULSE_PROVIDER": "file",
        }
        pulse = pulse_for(env)
        started = time.perf_counter()
        seed_subscribers(pulse.db.engine, count)
        with transaction(pulse.db.sessions) as session:
            seed_content(session, week_monday(WEEK))
        weekly.build_week(pulse, WEEK)
        timed("seed and build", started)
        with transaction(pulse.db.sessions) as session:
            assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        create_deliveries(pulse, count)
        sample = min(count, 100_000)
        bare_before = bare(pulse, sample, args.concurrency)
        alone = send(pulse, env, count, 0, "one process")
        per_recipient = table_bytes(pulse.db.engine, "deliveries") / count
        subscribers = table_bytes(pulse.db.engine, "subscribers") / count
        shared = None
        if args.workers:  # --workers 0: the one process only
            shared = send(pulse, env, count, args.workers, f"one process + {args.workers} workers")
        bare_after = bare(pulse, sample, args.concurrency)
        pulse.close()
    base = (bare_before + bare_after) / 2
    print(f"  database per recipient: deliveries {per_recipient:,.0f} B (sent), ", end="")
    print(f"subscribers {subscribers:,.0f} B")
    print(
        f"  one process / bare: {alone['rate'] / base:.0%}, peak {alone['peak_mb']:.0f} MB"
        + (
            f"; 1 + {args.workers} workers / bare: {shared['rate'] / base:.0%}, "
            f"peak {shared['peak_mb']:.0f} MB per process"
            if shared
            else ""
        )
        + " (memory target < 150 MB)"
    )


if __name__ == "__main__":
    main()
