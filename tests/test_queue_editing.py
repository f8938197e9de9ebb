"""Issue 21 item 3: every queued item can be listed, edited and removed on the CLI.

One wrong salary point used to block the issue with no way to fix it; now the error names
the points and the command that fixes them, and that command exists.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pipeline.content import queue
from pipeline.content.models import JobListing, SalaryPoint, Snippet
from pipeline.errors import PulseError, ValidationError
from pipeline.issues.queue_edits import update_salary_point
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from pulse_core.database import transaction
from tests.conftest import Cli
from tests.scheduler.conftest import WEEK, seed


def _wrong_currency_point(pulse: Pulse) -> int:
    with transaction(pulse.db.sessions) as session:
        data = queue.SalaryInput(
            "ML Engineer", "Senior", "EUR", 190_000, 250_000, "US", "Typo", 10, date(2026, 11, 23)
        )
        return queue.add_salary_point(session, data).id


def test_a_mixed_currency_error_names_the_point_and_the_fix_and_the_fix_works(
    pulse: Pulse, cli: Cli
) -> None:
    seed(pulse)
    bad = _wrong_currency_point(pulse)
    blocked = cli("issue", "build", "--week", WEEK)
    assert blocked.exit_code == 1
    assert f"EUR: point {bad}" in blocked.stderr
    assert f"pulse salary edit {bad} --currency USD" in blocked.stderr
    assert f"pulse salary remove {bad}" in blocked.stderr
    fixed = cli("salary", "edit", str(bad), "--currency", "usd")
    assert fixed.exit_code == 0, fixed.stderr
    assert "USD 190,000–250,000" in fixed.stdout
    assert cli("issue", "build", "--week", WEEK).exit_code == 0


def test_salary_points_are_edited_and_removed(pulse: Pulse, cli: Cli) -> None:
    point = _wrong_currency_point(pulse)
    nothing = cli("salary", "edit", str(point))
    assert nothing.exit_code == 1 and "give at least one option" in nothing.stderr
    bad = cli("salary", "edit", str(point), "--low", "300000")
    assert bad.exit_code == 1 and "high" in bad.stderr  # low above high: nothing changed
    with pulse.db.sessions() as session:
        assert session.get(SalaryPoint, point).low == 190_000  # type: ignore[union-attr]
    missing = cli("salary", "remove", "999")
    assert missing.exit_code == 1 and "no salary point 999" in missing.stderr
    assert cli("salary", "remove", str(point)).exit_code == 0
    with pulse.db.sessions() as session:
        assert session.get(SalaryPoint, point) is None


def test_snippets_are_edited_and_removed(pulse: Pulse, cli: Cli) -> None:
    cli("content", "add", "--section", "role-insights", "--title", "Old title")
    with pulse.db.sessions() as session:
        snippet_id = session.scalars(select(Snippet.id)).one()
    edited = cli("content", "edit", str(snippet_id), "--title", "New title", "--week", "2026-W49")
    assert edited.exit_code == 0, edited.stderr
    listed = cli("content", "list").stdout
    assert "New title" in listed and "2026-W49" in listed
    bad = cli("content", "edit", str(snippet_id), "--week", "soon")
    assert bad.exit_code == 1 and "--week: 'soon'" in bad.stderr
    assert cli("content", "remove", str(snippet_id)).exit_code == 0
    with pulse.db.sessions() as session:
        assert session.get(Snippet, snippet_id).retired_at is not None  # type: ignore[union-attr]


def test_jobs_are_edited_and_removed_but_not_once_mailed(pulse: Pulse, cli: Cli) -> None:
    seed(pulse)
    with transaction(pulse.db.sessions) as session:
        spare = queue.add_job(
            session, company="Acme", title="SE", location="NYC", url="https://acme.example/1"
        ).id
    edited = cli("jobs", "edit", str(spare), "--comp-low", "150000", "--comp-high", "190000")
    assert edited.exit_code == 0, edited.stderr
    half = cli("jobs", "edit", str(spare), "--no-comp", "--comp-low", "1")
    assert half.exit_code == 1 and "--comp-high" in half.stderr
    weekly.build_week(pulse, WEEK)
    with pulse.db.sessions() as session:
        shown = session.scalars(select(JobListing).where(JobListing.issue_id.is_not(None))).first()
        assert shown is not None
        shown_id = shown.id
    unsent = cli("jobs", "edit", str(shown_id), "--title", "Senior SE")
    assert unsent.exit_code == 0 and f"rebuild it with `pulse issue build --week {WEEK}" in (
        unsent.stdout
    )
    weekly.send_week(pulse, WEEK)
    mailed = cli("jobs", "remove", str(shown_id))
    assert mailed.exit_code == 1 and f"went out in issue {WEEK}" in mailed.stderr


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["role", "level", "currency", "low", "high", "sample_size", "as_of"]),
    value=st.text(max_size=30),
)
def test_hostile_salary_edits_change_nothing_or_everything_consistently(
    pulse: Pulse, field: str, value: str
) -> None:
    point_id = _wrong_currency_point(pulse)
    with pulse.db.sessions() as session:
        before = session.get(SalaryPoint, point_id)
        assert before is not None
        snapshot = (before.role, before.level, before.currency, before.low, before.high)
    try:
        with transaction(pulse.db.sessions) as session:
            update_salary_point(session, point_id, {field: value})
    except ValidationError as err:
        assert err.field  # names the field
        with pulse.db.sessions() as session:
            after = session.get(SalaryPoint, point_id)
            assert after is not None
            assert (after.role, after.level, after.currency, after.low, after.high) == snapshot
    except PulseError as err:  # pragma: no cover - any other project error is a bug here
        raise AssertionError(f"unexpected {err!r}") from err
