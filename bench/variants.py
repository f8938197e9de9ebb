"""Tailored variants: build time and per-recipient send cost with 24 variants against none.

Two throwaway SQLite lists of the same size get the same demo week, plus jobs in a few
more regions and a snippet aimed at each role. In the baseline nobody has a profile, so
the issue renders once; in the other, readers' profiles are spread over levels, regions
and roles so that far more than 24 combinations would change the content, and the build
renders the default plus ``PULSE_MAX_VARIANTS`` (24) variants. Both are then sent through
a provider that merges every reader's HTML and text and accepts them (no network), so the
send figure is the engine's own cost per recipient: claim, compose, merge, record.

Run: ``python bench/variants.py [SUBSCRIBERS]`` (default 20,000)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from _common import WEEK, base_env, pulse_for, seed_list, workspace
from sqlalchemy import func, select, update

from pipeline.content import queue
from pipeline.delivery.engine import begin_send, run_send
from pipeline.delivery.message import Batch
from pipeline.delivery.models import Delivery
from pipeline.delivery.options import SendOptions
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.issues.build import get_issue
from pipeline.issues.variant_store import stored_variants
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from subscribers.models import Subscriber
from subscribers.profile import LEVELS, ROLES

SUBSCRIBERS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
BUILDS = 3
EXTRA_JOBS = (("London, UK", "GB"), ("Berlin, Germany", "DE"), ("Toronto, ON", "CA"))
REGIONS = ("US", "GB", "DE", "CA", None)


class MergingProvider(Provider):
    """Merges each recipient's two parts, as a provider building MIME would, and accepts."""

    name = "merging"
    capabilities = Capabilities(max_batch=500)

    def send_batch(self, batch: Batch) -> list[SendResult]:
        for recipient in batch.recipients:
            batch.html_for(recipient)
            batch.text_for(recipient)
        return [SendResult(r.delivery_id, SendStatus.SENT, "m") for r in batch.recipients]


def add_tailorable_content(pulse: Pulse) -> None:
    with transaction(pulse.db.sessions) as session:
        for n, (location, code) in enumerate(EXTRA_JOBS):
            queue.add_job(
                session,
                company=f"Bench Co {code}",
                title=f"Solutions Engineer {code}",
                location=location,
                url=f"https://jobs.example.com/bench/{n}",
            )
        for role in ROLES:
            queue.add_snippet(
                session, section="quick-links", title=f"For {role}", target_roles=role
            )


def spread_profiles(pulse: Pulse) -> None:
    """Readers by id over 4 level states × 5 regions × 5 role states (100 combinations)."""
    levels: Sequence[str | None] = (*LEVELS, None)
    roles: Sequence[str | None] = (*ROLES, None)
    with transaction(pulse.db.sessions) as session:
        for a, level in enumerate(levels):
            for b, region in enumerate(REGIONS):
                for c, role in enumerate(roles):
                    bucket = (a * len(REGIONS) + b) * len(roles) + c
                    session.execute(
                        update(Subscriber)
                        .where(Subscriber.id % 100 == bucket)
                        .values(level=level, region=region, role=role)
                    )


def prepared(tailored: bool) -> Pulse:
    pulse = pulse_for(base_env(workspace()))
    seed_list(pulse, SUBSCRIBERS)  # builds once; the timed builds below are rebuilds
    add_tailorable_content(pulse)
    if tailored:
        spread_profiles(pulse)
    return pulse


def time_builds(pulse: Pulse) -> tuple[float, int]:
    times = []
    for _ in range(BUILDS):
        started = time.perf_counter()
        weekly.build_week(pulse, WEEK, rebuild=True)
        times.append(time.perf_counter() - started)
    with pulse.db.sessions() as session:
        count = len(stored_variants(session, get_issue(session, WEEK).id))
    return min(times), count


def time_send(pulse: Pulse) -> tuple[float, float, int]:
    started = time.perf_counter()
    issue, _created = begin_send(pulse.db.sessions, WEEK)
    created = time.perf_counter() - started
    started = time.perf_counter()
    report = run_send(
        pulse.db.sessions,
        issue,
        MergingProvider(),
        pulse.identity,
        pulse.signer,
        options=SendOptions(batch_size=500, idle_wait=0.5),
    )
    sent = time.perf_counter() - started
    assert report.finished and report.sent == SUBSCRIBERS, report
    with pulse.db.sessions() as session:
        tailored = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.variant.is_not(None))
        )
    return created, sent, int(tailored or 0)


def main() -> int:
    print(f"subscribers: {SUBSCRIBERS:,}; builds timed: best of {BUILDS}")
    figures = {}
    for label, tailored in (("no variants (baseline)", False), ("tailored", True)):
        pulse = prepared(tailored)
        build_s, variants = time_builds(pulse)
        created_s, send_s, tailored_rows = time_send(pulse)
        pulse.close()
        figures[label] = (build_s, send_s)
        per = send_s / SUBSCRIBERS * 1e6
        print(
            f"{label:24} build {build_s * 1000:7.0f} ms ({variants} variants + default)  "
            f"rows made {created_s * 1000:6.0f} ms ({tailored_rows:,} tailored)  "
            f"send {send_s:6.2f} s = {per:6.1f} µs/recipient"
        )
    (base_build, base_send), (tail_build, tail_send) = figures.values()
    print(f"build: {tail_build / base_build:.1f}× the baseline")
    print(f"send per recipient: {tail_send / base_send:.2f}× the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
