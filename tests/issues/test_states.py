"""The issue state machine: every allowed transition, a refused one, and the reasons kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from pipeline.db import downgrade, open_database, upgrade
from pipeline.delivery.send_state import pause_send
from pipeline.errors import IssueError
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.states import (
    DONE,
    SEND_BEGUN,
    TRANSITIONS,
    UNSENT,
    Decision,
    transition,
    transition_values,
)
from pipeline.wiring import Pulse
from pulse_core.database import transaction

ALLOWED = [
    (status, decision, target)
    for status, moves in TRANSITIONS.items()
    for decision, target in moves.items()
]
REFUSED = [
    (status, decision)
    for status in IssueStatus
    for decision in Decision
    if decision not in TRANSITIONS[status]
]


def _stored(pulse: Pulse, status: IssueStatus) -> int:
    with transaction(pulse.db.sessions) as session:
        issue = Issue(
            week_key="2026-W48", number=1, subject="s", preheader="p", status=status,
            mjml="", html="", text="",
        )  # fmt: skip
        session.add(issue)
        session.flush()
        return issue.id


@pytest.mark.parametrize(("status", "decision", "target"), ALLOWED)
def test_every_allowed_transition_is_stored_with_its_decision(
    pulse: Pulse, status: IssueStatus, decision: Decision, target: IssueStatus
) -> None:
    issue_id = _stored(pulse, status)
    with transaction(pulse.db.sessions) as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        transition(issue, decision, f"because {decision.value}")
    with pulse.db.sessions() as session:
        stored = session.get(Issue, issue_id)
        assert stored is not None and stored.status is target
        if decision is Decision.REBUILD:  # a rebuild keeps the decision that set the status
            assert stored.status_decision is None and stored.status_reason is None
        else:
            assert stored.status_decision == decision.value
            assert stored.status_reason == f"because {decision.value}"


def test_a_refused_transition_names_the_status_and_the_verb_and_changes_nothing(
    pulse: Pulse,
) -> None:
    issue_id = _stored(pulse, IssueStatus.SENT)
    with transaction(pulse.db.sessions) as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        with pytest.raises(IssueError, match=r"issue 2026-W48 is sent and cannot be held"):
            transition(issue, Decision.HOLD, "too late")
    with pulse.db.sessions() as session:
        stored = session.get(Issue, issue_id)
        assert stored is not None and stored.status is IssueStatus.SENT
        assert stored.status_decision is None


@pytest.mark.parametrize(("status", "decision"), REFUSED)
def test_every_transition_not_in_the_table_is_refused(
    status: IssueStatus, decision: Decision
) -> None:
    issue = Issue(week_key="2026-W48", status=status)
    with pytest.raises(IssueError, match=f"is {status.value} and "):
        transition(issue, decision)
    assert issue.status is status


@pytest.mark.parametrize(
    ("decision", "sources", "target"),
    [
        (Decision.PAUSE, (IssueStatus.SENDING,), IssueStatus.PAUSED),
        (Decision.FINISH, (IssueStatus.SENDING,), IssueStatus.SENT),
        (Decision.RETRY_FAILED, (IssueStatus.SENT,), IssueStatus.SENDING),
    ],
)
def test_the_engines_bulk_updates_take_their_statuses_from_the_table(
    decision: Decision, sources: tuple[IssueStatus, ...], target: IssueStatus
) -> None:
    assert transition_values(decision) == (
        sources,
        {"status": target, "status_decision": decision.value, "status_reason": None},
    )


def test_a_decision_leading_to_several_statuses_has_no_bulk_form() -> None:
    with pytest.raises(ValueError, match="rebuild leads to 2 statuses"):
        transition_values(Decision.REBUILD)


def test_a_paused_and_a_finished_send_record_their_decision(pulse: Pulse) -> None:
    issue_id = _stored(pulse, IssueStatus.SENDING)
    assert pause_send(pulse.db.sessions, issue_id, "breaker: too many bounces")
    assert not pause_send(pulse.db.sessions, issue_id, "again")  # only a sending issue
    with transaction(pulse.db.sessions) as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert (issue.status, issue.status_decision, issue.pause_reason) == (
            IssueStatus.PAUSED,
            "pause",
            "breaker: too many bounces",
        )


def test_the_status_groups_cover_every_status_once() -> None:
    assert UNSENT == (IssueStatus.BUILT, IssueStatus.HELD)
    assert DONE == (IssueStatus.SENT, IssueStatus.SKIPPED)
    assert SEND_BEGUN == (IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT)
    assert set(UNSENT) | set(SEND_BEGUN) | {IssueStatus.SKIPPED} == set(IssueStatus)


def test_migration_0022_moves_hold_and_skip_reasons_to_status_reason(database_url: str) -> None:
    database = open_database(database_url)
    insert = text(
        "INSERT INTO issues (week_key, number, subject, preheader, status, mjml, html, text,"
        " created_at, built_at, pause_reason) VALUES (:week, :number, 's', 'p', :status,"
        " '', '', '', :at, :at, :reason)"
    )
    at = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        ("2026-W40", 1, "held", "waiting for legal"),
        ("2026-W41", 2, "skipped", "built by mistake"),
        ("2026-W42", 3, "paused", "bounce rate 9%"),
    ]
    try:
        downgrade(database.engine, "0016")
        with database.engine.begin() as connection:
            for week, number, status, reason in rows:
                params = {"week": week, "number": number, "status": status, "reason": reason}
                connection.execute(insert, {**params, "at": at})
        upgrade(database.engine, "0022")
        query = text(
            "SELECT week_key, status_decision, status_reason, pause_reason FROM issues"
            " ORDER BY week_key"
        )
        with database.engine.connect() as connection:
            after = [tuple(row) for row in connection.execute(query)]
        assert after == [
            ("2026-W40", "hold", "waiting for legal", None),
            ("2026-W41", "skip", "built by mistake", None),
            ("2026-W42", None, None, "bounce rate 9%"),  # the engine's pause stays put
        ]
        downgrade(database.engine, "0016")
        with database.engine.connect() as connection:
            back = list(connection.execute(text("SELECT pause_reason FROM issues ORDER BY id")))
        assert [row[0] for row in back] == [reason for *_rest, reason in rows]
    finally:
        upgrade(database.engine)
        database.dispose()
