"""Shared set-up for the delivery benchmarks: a seeded SQLite list and a fake provider process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from pipeline.config import load_settings  # noqa: E402
from pipeline.delivery.compose import IssueMailer  # noqa: E402
from pipeline.delivery.providers.postmark import PostmarkProvider  # noqa: E402
from pipeline.delivery.store import ClaimedDelivery  # noqa: E402
from pipeline.demo.seed import FIRST_NAMES, seed_content  # noqa: E402
from pipeline.issues.build import get_issue  # noqa: E402
from pipeline.weeks import week_monday  # noqa: E402
from pipeline.wiring import Pulse  # noqa: E402
from pipeline.workflow import weekly  # noqa: E402
from pulse_core.database import transaction, utcnow  # noqa: E402
from subscribers.models import Subscriber, SubscriberStatus  # noqa: E402

WEEK = "2026-W48"
CREDENTIAL = "bench-credential"


def workspace() -> Path:
    return Path(tempfile.mkdtemp(prefix="pulse-bench-"))


def base_env(folder: Path) -> dict[str, str]:
    return {
        "PULSE_DATABASE_URL": f"sqlite:///{folder / 'pulse.db'}",
        "PULSE_VAR_DIR": str(folder / "var"),
        "PULSE_OUTBOX_DIR": str(folder / "var" / "outbox"),
        "PULSE_POSTAL_ADDRESS": "AISE Pulse Brief, 100 Example Street, Springfield, IL 62701",
    }


def provider_env(name: str, url: str) -> dict[str, str]:
    if name == "ses":  # botocore signs with these; nothing of the machine's AWS set-up is read
        return {
            "PULSE_PROVIDER": "ses",
            "PULSE_SES_REGION": "us-east-1",
            "PULSE_SES_API_URL": url,
            "AWS_ACCESS_KEY_ID": CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    key = {
        "postmark": "PULSE_POSTMARK_TOKEN",
        "sendgrid": "PULSE_SENDGRID_API_KEY",
        "mailgun": "PULSE_MAILGUN_API_KEY",
        "resend": "PULSE_RESEND_API_KEY",
    }[name]
    env = {"PULSE_PROVIDER": name, key: CREDENTIAL, f"PULSE_{name.upper()}_API_URL": url}
    if name == "mailgun":
        env["PULSE_MAILGUN_DOMAIN"] = "mg.example.com"
    return env


def demo_pulse(readers: int) -> Pulse:
    """A throwaway SQLite workspace with the demo week seeded for ``readers`` and built."""
    from pipeline.demo.seed import seed_week

    pulse = pulse_for(base_env(workspace()))
    with transaction(pulse.db.sessions) as session:
        seed_week(session, week_monday(WEEK), readers)
    weekly.build_week(pulse, WEEK)
    return pulse


def pulse_for(env: dict[str, str]) -> Pulse:
    os.environ.update(env)
    return Pulse(load_settings())


def seed_list(pulse: Pulse, count: int) -> None:
    """``count`` active subscribers inserted in bulk, plus a week of content, built once."""
    now = utcnow()
    chunk = 20_000
    with transaction(pulse.db.sessions) as session:
        seed_content(session, week_monday(WEEK))
        for start in range(1, count + 1, chunk):
            rows = [
                {
                    "email": f"reader{n:07d}@example.com",
                    "email_key": f"reader{n:07d}@example.com",
                    "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
                    "status": SubscriberStatus.ACTIVE,
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now,
                    "consent_text": "benchmark",
                    "consent_at": now,
                }
                for n in range(start, min(start + chunk, count + 1))
            ]
            session.execute(insert(Subscriber), rows)
    weekly.build_week(pulse, WEEK)


@contextmanager
def fake_server(name: str) -> Iterator[str]:
    """The provider's local test server in its own process (no schema checks: pure speed)."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.serve",
            name,
            "--credential",
            CREDENTIAL,
            *([] if os.environ.get("BENCH_VALIDATE") else ["--no-validate"]),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        yield url
    finally:
        child.terminate()
        child.wait()


def bare_send(url: str, bodies: list[bytes], total: int, threads: int) -> float:
    """Post pre-rendered batches until ``total`` messages went out; returns messages/second."""
    per_batch = 500
    calls = total // per_batch
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=threads)
    session.mount("http://", adapter)
    headers = {"X-Postmark-Server-Token": CREDENTIAL, "Content-Type": "application/json"}

    def post(index: int) -> None:
        answer = session.post(
            f"{url}/email/batch", data=bodies[index % len(bodies)], headers=headers
        )
        answer.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(calls)))
    return calls * per_batch / (time.perf_counter() - started)


def bare_bodies(pulse: Pulse, url: str) -> list[bytes]:
    """The bare sender's batches: the same issue, merged for real recipients, pre-rendered."""
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, WEEK)
    mailer = IssueMailer(issue, pulse.identity, pulse.signer)
    adapter = PostmarkProvider(CREDENTIAL, stream="broadcast", api_url=url, timeout=30, pool_size=1)
    bodies = []
    for b in range(4):
        rows = [
            ClaimedDelivery(b * 500 + i, b * 500 + i, f"bare{b}-{i}@example.com", "Alex")
            for i in range(1, 501)
        ]
        bodies.append(adapter.body(mailer.batch(rows)))
    return bodies


def server_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/_fake/stats") as answer:  # noqa: S310 - loopback only
        stats: dict[str, int] = json.loads(answer.read())
        return stats


def timed(label: str, started: float) -> float:
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.1f}s", flush=True)
    return elapsed
