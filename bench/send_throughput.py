"""Send throughput: the Postmark adapter and engine against a bare sender, same server, same run.

    python bench/send_throughput.py [--subscribers 100000] [--concurrency 4]

The bare sender is the floor of what any client could do: a loop (with the same number of
threads) posting pre-rendered 500-message batches of the same issue to the same local
Postmark server. The engine does everything for real: outbox rows, claims, tokens, merge,
JSON, results recorded per recipient. Target: at least 70% of the bare sender's rate.
"""

from __future__ import annotations

import argparse
import time

from _common import (
    WEEK,
    bare_bodies,
    bare_send,
    base_env,
    fake_server,
    provider_env,
    pulse_for,
    seed_list,
    server_stats,
    timed,
    workspace,
)

from pipeline.workflow import weekly


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    folder = workspace()
    print(f"send throughput: {args.subscribers:,} subscribers, SQLite in {folder}")
    with fake_server("postmark") as url:
        env = base_env(folder) | provider_env("postmark", url)
        env["PULSE_SEND_CONCURRENCY"] = str(args.concurrency)
        pulse = pulse_for(env)
        started = time.perf_counter()
        seed_list(pulse, args.subscribers)
        timed("seed and build", started)

        bodies = bare_bodies(pulse, url)
        print(f"  batch body: {len(bodies[0]) / 1e6:.1f} MB for 500 messages")
        # Measured before and after the engine: the machine's load drifts during a run.
        bare_before = bare_send(url, bodies, args.subscribers, args.concurrency)
        print(f"  bare sender (before): {bare_before:,.0f} messages/s")

        started = time.perf_counter()
        report = weekly.send_week(pulse, WEEK)
        elapsed = timed("engine send (rows created, sent, recorded)", started)
        engine = report.sent / elapsed
        bare_after = bare_send(url, bodies, args.subscribers, args.concurrency)
        print(f"  bare sender (after):  {bare_after:,.0f} messages/s")
        stats = server_stats(url)
    bare = (bare_before + bare_after) / 2
    bare_messages = 2 * (args.subscribers // 500 * 500)
    assert report.finished and report.sent == args.subscribers
    assert stats["messages"] == bare_messages + args.subscribers
    print(f"  engine:      {engine:,.0f} messages/s")
    print(f"  engine / bare (mean of both): {engine / bare:.0%} (target ≥ 70%)")


if __name__ == "__main__":
    main()
