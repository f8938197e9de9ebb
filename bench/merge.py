"""Per-recipient merge cost against a bare ``str.join`` of the same split HTML.

Builds the demo issue in a throwaway SQLite database, then for 100,000 recipients times
(1) ``MergeTemplate.merge`` with each recipient's own values and (2) a bare
``"".join(parts)`` of the split HTML, which is the floor for any merge that produces a new
string per recipient. Targets: merge ≤ 2× the bare join, and ≤ 5 µs per recipient.

Run: ``python bench/merge.py [RECIPIENTS]``
"""

from __future__ import annotations

import sys
import time

from _common import WEEK, demo_pulse

from pipeline.issues.build import get_issue

RECIPIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
ROUNDS = 3


def demo_html() -> str:
    pulse = demo_pulse(0)
    with pulse.db.sessions() as session:
        html = get_issue(session, WEEK).html
    pulse.close()
    return html


def best_of(rounds: int, run: object) -> float:
    assert callable(run)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    from pipeline.issues.merge import MergeTemplate

    html = demo_html()
    template = MergeTemplate.parse(html)
    token = "x" * 96
    # Every slot the issue has: tracked links (``link_N``) and the open pixel get a
    # per-recipient URL like the rest, the referral link a per-recipient code.
    others = sorted(template.fields - {"unsubscribe_url", "preferences_url", "first_name"})
    values = [
        {
            "unsubscribe_url": f"https://news.example.com/u/{n:06d}{token}",
            "preferences_url": f"https://news.example.com/preferences/{n:06d}{token}",
            "first_name": f"Reader{n}",
            **{name: f"https://news.example.com/{name}/{n:06d}{token[:40]}" for name in others},
        }
        for n in range(RECIPIENTS)
    ]
    parts = list(template.parts)
    join = "".join

    def merged() -> None:
        merge = template.merge
        for value in values:
            merge(value)

    def bare() -> None:
        for _value in values:
            join(parts)

    merge_s = best_of(ROUNDS, merged)
    bare_s = best_of(ROUNDS, bare)
    per_merge = merge_s / RECIPIENTS * 1e6
    per_bare = bare_s / RECIPIENTS * 1e6
    ratio = merge_s / bare_s
    print(f"compiled HTML: {len(html.encode()):,} bytes, {len(template.slots)} merge slots")
    print(f"recipients: {RECIPIENTS:,} (best of {ROUNDS} rounds)")
    print(f"bare str.join:  {bare_s:.3f} s  {per_bare:.2f} µs/recipient")
    print(f"merge:          {merge_s:.3f} s  {per_merge:.2f} µs/recipient")
    print(f"merge / bare:   {ratio:.2f}×  (target ≤ 2×, ≤ 5 µs/recipient)")
    ok = ratio <= 2 and per_merge <= 5
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
