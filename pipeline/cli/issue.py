"""``pulse issue``: build, preview, send and watch the week's issue."""

from __future__ import annotations

import signal
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlalchemy import func, select

from pipeline.cli.common import console, errors, new_app, pulse
from pipeline.cli.issue_variants import list_variants
from pipeline.cli.outcome import report_send_end
from pipeline.cli.progress import SendProgress
from pipeline.deliverability.spam import score_message
from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.outbox import counts_by_status, next_retry_at, retries_waiting
from pipeline.delivery.ratelimit import SendRateLimiter
from pipeline.delivery.waves import Wave, waves_of
from pipeline.issues.build import find_issue, get_issue
from pipeline.issues.models import IssueStatus
from pipeline.issues.screenshots import chromium_available, take_screenshots
from pipeline.issues.variants import DEFAULT_KEY
from pipeline.workflow import calendar, check, decisions, variants, weekly
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus

app = new_app("The week's issue.")

WeekOption = Annotated[
    str | None, typer.Option("--week", help="ISO week such as 2026-W48 (default: this week)")
]


def _print_lint(key: str, problems: list[str]) -> None:
    if not problems:
        console.print(f"{key}: lint clean")
        return
    console.print(f"{key}: lint found {len(problems)} problem(s); `send` will refuse:")
    for problem in problems:
        console.print(f"  - {problem}", markup=False, soft_wrap=True)


@app.command("build")
def build(
    week: WeekOption = None,
    rebuild: Annotated[bool, typer.Option(help="re-assemble an unsent issue")] = False,
    subject: Annotated[str | None, typer.Option(help="at most 70 characters")] = None,
    preheader: Annotated[str | None, typer.Option(help="at most 110 characters")] = None,
) -> None:
    """Assemble and render the week's issue (the same issue if it already exists), then lint.

    Example: pulse issue build --week 2026-W49 --subject 'Pay holds steady'
    """
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    result = weekly.build_week(app_, key, rebuild=rebuild, subject=subject, preheader=preheader)
    state = "built" if result.created else ("rebuilt" if rebuild else "already built")
    console.print(
        f"{key}: {state} issue #{result.issue.number} “{result.issue.subject}”", markup=False
    )
    problems = check.lint_week(app_, key)
    _print_lint(key, problems)
    if problems:
        raise typer.Exit(1)


@app.command("lint")
def lint(
    week: WeekOption = None,
    spam: Annotated[
        bool, typer.Option("--spam", help="also score the issue with SpamAssassin, if installed")
    ] = False,
) -> None:
    """Check the built issue: size, links, alt text, footer, text part, MJML."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    problems = check.lint_week(app_, key)
    _print_lint(key, problems)
    if spam:
        problems += _print_spam(key, weekly.sample_message(app_, key))
    if problems:
        raise typer.Exit(1)


def _print_spam(key: str, raw: bytes) -> list[str]:
    """SpamAssassin's rules for the sample message; each positive rule is a problem."""
    report = score_message(raw)
    if report is None:
        console.print(
            f"{key}: spam check skipped: SpamAssassin is not installed "
            "(apt-get install spamassassin)",
            markup=False,
        )
        return []
    console.print(f"{key}: SpamAssassin score {report.score:.1f}", markup=False)
    for rule in report.rules:
        console.print(f"  {rule.points:5.1f} {rule.name}  {rule.description}", markup=False)
    return [f"SpamAssassin rule {rule.name} ({rule.points:+.1f})" for rule in report.positive]


@app.command("check")
def check_command(week: WeekOption = None) -> None:
    """Per section what is there and what is missing, plus lint problems; non-zero if not ready.

    Example: pulse issue check --week 2026-W49
    """
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    report = check.check_week(app_, key, utcnow())
    console.print(report.as_text(), markup=False)
    if not report.ready:
        raise typer.Exit(1)


@app.command("preview")
def preview(
    out: Annotated[Path, typer.Option(help="folder to write the files into")],
    week: WeekOption = None,
    variant: Annotated[
        str | None,
        typer.Option(help="what a reader with this profile gets, e.g. level=senior,region=US"),
    ] = None,
) -> None:
    """Write issue.mjml, issue.html, issue.txt, a sample issue.eml and (with Chromium) PNGs.

    Example: pulse issue preview --out preview/ --variant level=senior,region=US
    """
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    got = DEFAULT_KEY
    if variant is not None:
        with transaction(app_.db.sessions) as session:
            resolved = variants.resolve_variant(session, get_issue(session, key), variant)
        got = resolved.got
        console.print(
            f"{key}: a reader with {resolved.asked.text} gets the {got.text} variant"
            if got != resolved.asked
            else f"{key}: variant {got.text}",
            markup=False,
        )
    written = weekly.write_preview(app_, key, out, got)
    for path in written:
        console.print(str(path))
    chromium = app_.settings.chromium_path
    if not chromium_available(chromium):
        console.print(
            f"screenshots skipped: no Chromium at {chromium}, or Playwright missing "
            "(pip install 'aise-pulse-brief[preview]')",
            markup=False,
        )
        return
    html = (out / "issue.html").read_text(encoding="utf-8")
    shots = take_screenshots(html, out, chromium=chromium)
    for shot in shots:
        console.print(str(shot.path))
    wide = [s for s in shots if s.scrolls_sideways]
    for shot in wide:
        console.print(
            f"warning: at {shot.width}px the issue scrolls sideways "
            f"(content is {shot.scroll_width}px wide)"
        )
    if wide:
        raise typer.Exit(1)


def _send(week: str | None, *, resume: bool) -> None:
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    stop = threading.Event()

    def finish_batch_then_stop(signum: int, _frame: FrameType | None) -> None:
        errors.print("stopping after the batch in flight; `pulse issue resume` continues")
        stop.set()

    previous = signal.signal(signal.SIGTERM, finish_batch_then_stop)
    try:
        total = _deliveries_left(key)
        interval = app_.settings.progress_interval
        with SendProgress(console, key, total, interval=interval) as progress:
            report = weekly.send_week(app_, key, on_progress=progress, resume=resume, stop=stop)
    finally:
        signal.signal(signal.SIGTERM, previous)
    state = report.describe_end() if report.finished else report.end.value
    console.print(
        f"{key}: {report.describe_sent()}, failed {report.outcome['failed']}, "
        f"in {report.elapsed:.1f}s; send {state}",
        markup=False,
        soft_wrap=True,
    )
    report_send_end(report, errors)  # the reason on stderr and exit 1 or 3 when not finished


def _deliveries_left(week: str) -> int:
    """Rows still to send, for the progress bar (the whole list when the send starts now)."""
    app_ = pulse()
    with transaction(app_.db.sessions) as session:
        issue = find_issue(session, week)
        if issue is None:
            return 0
        counts = counts_by_status(session, issue.id)
        if counts:
            return counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
        query = select(func.count()).select_from(Subscriber)
        return int(session.scalar(query.where(Subscriber.status == SubscriberStatus.ACTIVE)) or 0)


@app.command("send")
def send(
    week: WeekOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="send a week that is not due yet without asking")
    ] = False,
) -> None:
    """Send the week's issue to every active subscriber (continues an interrupted send).

    Example: pulse issue send --week 2026-W48
    """
    _confirm_early_send(week, yes)
    _send(week, resume=False)


def _interactive() -> bool:
    """Whether someone can answer a question (a terminal, not a script or cron)."""
    return sys.stdin.isatty()


def _confirm_early_send(week: str | None, yes: bool) -> None:
    """Before the week is due, say what the schedule would do and ask (or need ``--yes``)."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    with app_.db.sessions() as session:
        issue = find_issue(session, key)
    if issue is not None and issue.status is not IssueStatus.BUILT:
        return  # held, under way or done: the send path answers for those states
    notice = calendar.early_send_notice(app_.schedule, key, utcnow())
    if notice is None or yes:
        return
    errors.print(f"{notice}.", markup=False)
    if not _interactive():
        errors.print(f"error: not sent; to send {key} now anyway add --yes", markup=False)
        raise typer.Exit(1)
    if not typer.confirm(f"Send {key} now, before it is due?", default=False, err=True):
        errors.print("not sent", markup=False)
        raise typer.Exit(1)


@app.command("resume")
def resume(week: WeekOption = None) -> None:
    """Continue a paused or interrupted send."""
    _send(week, resume=True)


@app.command("pause")
def pause(
    week: WeekOption = None,
    reason: Annotated[str, typer.Option(help="why, shown by `status`")] = "paused by an operator",
) -> None:
    """Pause a send in progress (with local-time sending, the waves still to come too)."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    decisions.pause(app_, key, reason)
    console.print(f"{key}: send paused; `pulse issue resume --week {key}` continues it")


@app.command("approve")
def approve(
    week: WeekOption = None,
    editor: Annotated[str, typer.Option(help="who approves (recorded)")] = "cli",
) -> None:
    """Approve the issue for its scheduled send (building it first if needed).

    A held issue whose send time has passed goes out at the scheduler's next re-check.
    To send at once, use `pulse issue send`.
    """
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    decisions.approve(app_, key, editor)
    due = calendar.send_time_of(app_.schedule, key)
    console.print(f"{key}: approved by {editor}")
    console.print(
        f"it goes out at {due:%a %d %b %Y %H:%M %Z} (the scheduler sends it; "
        f"`pulse issue send --week {key}` sends it now)",
        markup=False,
        soft_wrap=True,
    )


def discard(
    reason: Annotated[str, typer.Option("--reason", help="why it is thrown away (recorded)")],
    editor: Annotated[str, typer.Option("--editor", help="who discards it (recorded)")],
    week: WeekOption = None,
) -> None:
    """Throw away a held or stray issue: it is never sent; its content goes back to the queue.

    Example: pulse issue discard --week 2026-W48 --editor ed@example.com --reason "built by mistake"
    """
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    number = decisions.discard(app_, key, editor, reason).number
    console.print(f"{key}: issue #{number} discarded by {editor}: {reason.strip()}", markup=False)


app.command("variants")(list_variants)
app.command("discard")(discard)
app.command("skip", help="Same as `discard`: the week is skipped, never sent.")(discard)


@app.command("status")
def status(week: WeekOption = None) -> None:
    """Show the issue's state and its deliveries by status."""
    app_ = pulse()
    key = weekly.resolve_week(app_, week)
    with transaction(app_.db.sessions) as session:
        issue = get_issue(session, key)
        counts = counts_by_status(session, issue.id)
        waiting = retries_waiting(session, issue.id)
        retry_at = next_retry_at(session, issue.id)
        waves = waves_of(session, issue.id, app_.settings.timezone)
    console.print(f"{key}: issue #{issue.number} “{issue.subject}” is {issue.status.value}")
    if issue.discarded_by and issue.discarded_at:
        when = f"{issue.discarded_at.astimezone(app_.settings.zone):%Y-%m-%d %H:%M %Z}"
        console.print(
            f"discarded by {issue.discarded_by} at {when}: {issue.status_reason}", markup=False
        )
    elif issue.status is IssueStatus.PAUSED and issue.pause_reason:
        console.print(f"paused because: {issue.pause_reason}", markup=False)
    elif issue.status is IssueStatus.HELD and issue.status_reason:
        console.print(f"held because: {issue.status_reason}", markup=False)
    if issue.send_requested_at is not None and issue.status is IssueStatus.BUILT:
        console.print(
            "send now requested: the scheduler or `pulse worker` starts it at its next poll",
            markup=False,
        )
    if waiting and retry_at is not None:
        console.print(
            f"retries pending: {waiting} recipient(s) refused for now; next retry at "
            f"{retry_at:%Y-%m-%d %H:%M:%S} UTC (`pulse worker`, the scheduler or "
            "`pulse issue resume` sends them)",
            soft_wrap=True,
        )
    hold = SendRateLimiter(app_.db.sessions, []).held_until()
    if hold is not None:
        until = datetime.fromtimestamp(hold[0], UTC)
        console.print(
            f"the provider asked every sender to wait until {until:%H:%M:%S} UTC: {hold[1]}",
            markup=False,
            soft_wrap=True,
        )
    table = Table("deliveries", "count")
    for state in DeliveryStatus:
        table.add_row(state.value, str(counts.get(state, 0)))
    table.add_row("total", str(sum(counts.values())))
    console.print(table)
    if waves:
        _print_waves(waves, utcnow())


def _print_waves(waves: list[Wave], now: datetime) -> None:
    """Local-time sending (PULSE_SEND_LOCAL_TIME): each wave, done, in progress or to come."""
    table = Table("wave (UTC)", "local time", "state", "sent", "done", "to send")
    for wave in waves:
        first = wave.zones[0]
        local = wave.due_at.astimezone(ZoneInfo(first))
        others = f" (+{len(wave.zones) - 1} zones)" if len(wave.zones) > 1 else ""
        table.add_row(
            f"{wave.due_at:%Y-%m-%d %H:%M}",
            f"{local:%a %H:%M} {first}{others}",
            wave.state(now),
            str(wave.sent),
            str(wave.done),
            str(wave.left),
        )
    states = Counter(wave.state(now) for wave in waves)
    coming = [wave.due_at for wave in waves if wave.state(now) == "to come"]
    then = f"; the next at {min(coming):%Y-%m-%d %H:%M} UTC" if coming else ""
    console.print(
        f"waves: {states['done']} done, {states['in progress']} in progress, "
        f"{states['to come']} to come{then}"
    )
    console.print(table)
