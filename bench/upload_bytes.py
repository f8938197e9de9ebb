"""Bytes uploaded per recipient: body once per call (SendGrid, Mailgun) vs one body per message.

    python bench/upload_bytes.py [--subscribers 5000]

Each provider sends the same issue to the same list through its local test server, which
counts the request bytes it received. Postmark (which takes every message rendered) is the
one-body-per-message baseline. Target: ≤ 1 KB per recipient for SendGrid and Mailgun. SES
(an inline template sent once per call of 50) and Resend (every message rendered) are
measured too, for the capacity model in the README.
"""

from __future__ import annotations

import argparse

from _common import (
    WEEK,
    base_env,
    fake_server,
    provider_env,
    pulse_for,
    seed_list,
    server_stats,
    workspace,
)

from pipeline.workflow import weekly


def bytes_per_recipient(provider: str, subscribers: int) -> float:
    folder = workspace()
    with fake_server(provider) as url:
        pulse = pulse_for(base_env(folder) | provider_env(provider, url))
        seed_list(pulse, subscribers)
        report = weekly.send_week(pulse, WEEK)
        stats = server_stats(url)
        pulse.close()
    assert report.finished and stats["recipients"] == subscribers
    return stats["bytes"] / subscribers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=5000)
    args = parser.parse_args()
    print(f"upload bytes per recipient, {args.subscribers:,} subscribers")
    baseline = bytes_per_recipient("postmark", args.subscribers)
    print(f"  one body per message (postmark): {baseline / 1024:,.1f} KB")
    for provider in ("sendgrid", "mailgun"):
        size = bytes_per_recipient(provider, args.subscribers)
        verdict = "ok" if size <= 1024 else "over 1 KB"
        print(
            f"  {provider}: {size / 1024:,.2f} KB per recipient "
            f"({baseline / size:,.0f}x less; target ≤ 1 KB: {verdict})"
        )
    for provider in ("ses", "resend"):
        size = bytes_per_recipient(provider, args.subscribers)
        print(f"  {provider}: {size / 1024:,.2f} KB per recipient")


if __name__ == "__main__":
    main()
