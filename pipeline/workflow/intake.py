"""The intake use case shared by ``pulse jobs fetch``, the desk and the daily scheduler job:
fetch every source, then rebuild each unsent issue a closed job had to leave."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline.errors import PulseError
from pipeline.intake.fetch import SourceReport, fetch_all
from pipeline.intake.http import PoliteClient
from pipeline.issues.build import find_issue
from pipeline.stage_configs import fetch_policy, intake_config
from pipeline.wiring import Pulse
from pipeline.workflow import weekly


@dataclass
class IntakeOutcome:
    reports: list[SourceReport]
    rebuilt: list[str] = field(default_factory=list)
    rebuild_failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0


def run_intake(pulse: Pulse, now: datetime | None = None) -> IntakeOutcome:
    """Fetch every source once and take closed jobs out of the unsent issues."""
    client = PoliteClient(fetch_policy(pulse.settings))
    try:
        reports = fetch_all(pulse.db.sessions, intake_config(pulse.settings), client, now)
    finally:
        client.close()
    outcome = IntakeOutcome(reports=reports, requests=client.requests)
    for week in sorted({w for report in reports for w in report.weeks_to_rebuild}):
        with pulse.db.sessions() as session:
            issue = find_issue(session, week)
            kept = (issue.subject, issue.preheader) if issue else (None, None)
        try:  # the editors' subject and preheader stay; only the listings change
            weekly.build_week(pulse, week, rebuild=True, subject=kept[0], preheader=kept[1])
            outcome.rebuilt.append(week)
        except PulseError as err:  # e.g. the issue began sending meanwhile
            outcome.rebuild_failed[week] = str(err)
    return outcome
