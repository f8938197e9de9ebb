"""Does ``POST /subscribe`` tell who is subscribed by how long it takes? (issue 12 item 4)

A real uvicorn server on a loopback port, SQLite, and a provider that takes 200 ms per
message (the issue's figures were 218 ms for a new address against 5 ms for a known one,
because the confirmation was sent inside the request). Prints the median answer time for
new addresses and for an already-active one, measured alternately in the same run.

    python bench/signup_timing.py [rounds]
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import uvicorn  # noqa: E402

from pipeline.config import load_settings  # noqa: E402
from pipeline.delivery.transactional import TransactionalSender  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.wiring import Pulse  # noqa: E402
from pulse_core.database import transaction  # noqa: E402
from subscribers.mailqueue import pending_count  # noqa: E402
from subscribers.models import Subscriber, SubscriberStatus  # noqa: E402
from subscribers.outgoing import OutgoingEmail  # noqa: E402

PROVIDER_SECONDS = 0.2
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    folder = Path(tempfile.mkdtemp(prefix="pulse-bench-"))
    os.environ.update(
        {
            "PULSE_DATABASE_URL": f"sqlite:///{folder / 'pulse.db'}",
            "PULSE_VAR_DIR": str(folder / "var"),
            "PULSE_OUTBOX_DIR": str(folder / "var" / "outbox"),
            "PULSE_POSTAL_ADDRESS": "AISE Pulse Brief, 100 Example Street, Springfield, IL 62701",
        }
    )
    real_send = TransactionalSender.__call__

    def slow_send(self: TransactionalSender, email: OutgoingEmail) -> None:
        time.sleep(PROVIDER_SECONDS)
        real_send(self, email)

    TransactionalSender.__call__ = slow_send  # type: ignore[method-assign]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    pulse = Pulse(
        load_settings(
            base_url=base,
            signup_min_fill_seconds=0,
            signup_per_ip_per_hour=100_000,
            signup_per_address_per_hour=100_000,
        )
    )
    server = uvicorn.Server(uvicorn.Config(create_app(pulse), log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    session = requests.Session()

    def settle() -> None:
        # Each request's after-answer work (recording, the 200 ms provider) finishes first,
        # so every timed request meets an idle server, as a lone prober's would.
        while True:
            with transaction(pulse.db.sessions) as db:
                if pending_count(db) == 0:
                    return
            time.sleep(0.01)

    def post(address: str) -> float:
        settle()
        page = session.get(f"{base}/")
        found = FORM_TOKEN.search(page.text)
        assert found is not None
        started = time.perf_counter()
        answer = session.post(
            f"{base}/subscribe",
            data={"form_token": found.group(1), "email": address, "website": ""},
        )
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200, answer.status_code
        return elapsed * 1000

    post("known@example.com")
    with transaction(pulse.db.sessions) as db:
        for row in db.query(Subscriber):
            row.status = SubscriberStatus.ACTIVE
    new, known = [], []
    for n in range(rounds):
        new.append(post(f"new{n}@example.com"))
        known.append(post("known@example.com"))
    server.should_exit = True
    print(
        f"POST /subscribe median, {rounds} rounds, {PROVIDER_SECONDS * 1000:.0f} ms provider: "
        f"new address {statistics.median(new):.1f} ms, active address "
        f"{statistics.median(known):.1f} ms "
        f"(difference {statistics.median(new) - statistics.median(known):+.1f} ms)"
    )


if __name__ == "__main__":
    main()
