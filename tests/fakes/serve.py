"""Run one fake provider in its own process: ``python -m tests.fakes.serve postmark``.

Prints the base URL on the first line, then serves until killed. ``GET /_fake/stats``
returns what it accepted (used by ``bench/``, where the sender's process must not share
its memory or CPU with the server's bookkeeping).
"""

from __future__ import annotations

import argparse
import sys
import threading

from tests.fakes.providers import FAKES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("provider", choices=sorted(FAKES))
    parser.add_argument("--credential", default="test-credential")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args()
    fake = FAKES[args.provider](
        args.credential, latency=args.latency, validate=not args.no_validate, keep_messages=False
    )
    fake.start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        sys.exit(0)


if __name__ == "__main__":
    main()
