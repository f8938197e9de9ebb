"""How close a capped send comes to its cap, as the provider sees it.

The tests check that releases never exceed ``PULSE_SEND_RATE`` in any one-second window
(tests/delivery/test_engine.py); how near the measured arrival rate comes to the cap is a
matter of timing, so it is measured here: a Postmark send through the local fake at a cap,
the arrival rate over whole windows against the cap (target 0.95-1.01).

    python bench/rate_accuracy.py [--cap 150] [--seconds 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import WEEK, base_env, provider_env, pulse_for, seed_list, workspace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.workflow import weekly
from tests.fakes.providers import FakePostmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=150)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    recipients = args.cap * args.seconds
    with FakePostmark(validate=False) as fake:
        env = base_env(workspace()) | provider_env("postmark", fake.url)
        env |= {
            "PULSE_POSTMARK_TOKEN": fake.credential,
            "PULSE_SEND_RATE": str(args.cap),
            "PULSE_SEND_CONCURRENCY": "2",
            "PULSE_BATCH_SIZE": str(args.batch),
        }
        pulse = pulse_for(env)
        seed_list(pulse, recipients)
        weekly.send_week(pulse, WEEK)
        pulse.close()
        calls = sorted(fake.calls, key=lambda call: call.at)
    last_window = len(calls) - args.cap // args.batch
    span = calls[last_window].at - calls[0].at
    rate = sum(call.recipients for call in calls[:last_window]) / span
    print(f"cap {args.cap}/s, {recipients} recipients: measured {rate:.1f}/s at the provider")
    print(f"ratio {rate / args.cap:.3f} (target 0.95-1.01)")


if __name__ == "__main__":
    main()
