"""Peak memory of a send as the list grows: the outbox keeps it flat.

    python bench/send_memory.py [--sizes 100000,1000000] [--provider sendgrid]

For each size, the list is seeded in this process, then a fresh child process sends the
issue (creating the delivery rows, claiming, composing, sending, recording) and reports its
own peak resident memory. Targets: below 150 MB at 100,000 and less than 20% growth from
100,000 to 1,000,000. SendGrid is the default because its body-once calls keep the local
server fast; ``--provider postmark`` measures the render-every-message path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from _common import ROOT, WEEK, base_env, fake_server, provider_env, pulse_for, seed_list, workspace


def child(env_json: str) -> None:
    """Runs in the child: send the week, print peak RSS (MB) and the report as JSON."""
    from pipeline.workflow import weekly

    pulse = pulse_for(json.loads(env_json))
    started = time.perf_counter()
    report = weekly.send_week(pulse, WEEK)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "peak_mb": peak_kb / 1024,
                "sent": report.sent,
                "finished": report.finished,
                "seconds": time.perf_counter() - started,
            }
        )
    )


def measure(provider: str, size: int) -> dict[str, float]:
    folder = workspace()
    with fake_server(provider) as url:
        env = base_env(folder) | provider_env(provider, url)
        pulse = pulse_for(env)
        seed_list(pulse, size)
        pulse.close()
        done = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(env)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["finished"] and result["sent"] == size
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--provider", default="sendgrid", choices=["sendgrid", "postmark"])
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"peak memory of a send ({args.provider}), SQLite")
    results = []
    for size in sizes:
        result = measure(args.provider, size)
        results.append(result)
        rate = result["sent"] / result["seconds"]
        print(
            f"  {size:>9,} recipients: peak {result['peak_mb']:.0f} MB "
            f"(sent in {result['seconds']:.0f}s, {rate:,.0f}/s; target < 150 MB)",
            flush=True,
        )
    if len(results) > 1:
        growth = results[-1]["peak_mb"] / results[0]["peak_mb"] - 1
        print(f"  growth {sizes[0]:,} → {sizes[-1]:,}: {growth:+.0%} (target < 20%)")


if __name__ == "__main__":
    main()
