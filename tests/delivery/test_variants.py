"""Tailored variants end to end: rendered once each at build, matched to readers, sent as such.

Readers of the seeded week get profiles directly (the signup side sets them elsewhere);
a recording provider keeps each batch, so what each reader got is read from the merge.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from pipeline.content import queue
from pipeline.content.models import Snippet, SnippetStatus
from pipeline.delivery.engine import begin_send, run_send
from pipeline.delivery.message import Batch
from pipeline.delivery.models import Delivery
from pipeline.delivery.options import SendOptions
from pipeline.delivery.outbox import claim_batch
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.issues import render
from pipeline.issues.build import get_issue
from pipeline.issues.variant_store import stored_variants
from pipeline.wiring import Pulse
from pipeline.workflow import check, weekly
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.conftest import Cli, CliResult, MakePulse, Workspace
from tests.harness.seed import WEEK, seed_week_of

SENIOR_US = [1, 2, 3, 4]
MANAGERS = [5, 6]
IN_GB = [7, 8]
MANAGER_NOTE = "For SE managers: hiring plans for 2027"
LONDON_JOB = "Solutions Engineer, EMEA"
# In the seeded order the US/Canada job comes before the San Francisco one.
SF_JOB = "Pre-Sales Engineer, LLM Infrastructure"
US_CANADA_JOB = "Staff Solutions Architect, GenAI"


class Recording(Provider):
    """Accepts everyone; keeps each batch and each reader's merged HTML and text."""

    name = "recording"
    capabilities = Capabilities(max_batch=3)

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.html: dict[str, str] = {}
        self.text: dict[str, str] = {}

    def send_batch(self, batch: Batch) -> list[SendResult]:
        self.batches.append(batch)
        for recipient in batch.recipients:
            self.html[recipient.email] = batch.html_for(recipient)
            self.text[recipient.email] = batch.text_for(recipient)
        return [
            SendResult(r.delivery_id, SendStatus.SENT, f"m{r.delivery_id}")
            for r in batch.recipients
        ]


def reader(n: int) -> str:
    return f"reader{n:06d}@example.com"


def set_profile(pulse: Pulse, numbers: list[int], **profile: str | None) -> None:
    with transaction(pulse.db.sessions) as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.email.in_([reader(n) for n in numbers]))
            .values(**profile)
        )


def seed_profiles(pulse: Pulse) -> None:
    """Twelve readers: four senior in the US, two SE managers, two in GB, four unsaid."""
    seed_week_of(pulse, readers=12)
    with transaction(pulse.db.sessions) as session:
        queue.add_snippet(
            session, section="role-insights", title=MANAGER_NOTE, target_roles="se-manager"
        )
        queue.add_job(
            session,
            company="Woodgrove AI",
            title=LONDON_JOB,
            location="London, UK",
            url="https://jobs.example.com/woodgrove/se-emea",
        )
    set_profile(pulse, SENIOR_US, level="senior", region="US")
    set_profile(pulse, MANAGERS, role="se-manager")
    set_profile(pulse, IN_GB, region="GB")


def send(pulse: Pulse, provider: Provider) -> None:
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    options = SendOptions(batch_size=3, idle_wait=0.5)
    report = run_send(
        pulse.db.sessions, issue, provider, pulse.identity, pulse.signer, options=options
    )
    assert report.finished


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every MJML compilation, counted."""
    seen: list[str] = []
    original = render.compile_mjml

    def counting(source: str) -> str:
        seen.append(source)
        return original(source)

    monkeypatch.setattr(render, "compile_mjml", counting)
    yield seen


def test_each_variant_renders_once_and_each_reader_gets_their_own(
    pulse: Pulse, compiles: list[str]
) -> None:
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    with pulse.db.sessions() as session:
        issue = get_issue(session, WEEK)
        keys = [row.key for row in stored_variants(session, issue.id)]
    assert keys == ["level=senior,region=US", "region=GB", "role=se-manager"]
    assert len(compiles) == 1 + len(keys)  # the default, then each variant once

    provider = Recording()
    send(pulse, provider)
    assert len(compiles) == 1 + len(keys)  # the send merged, it compiled nothing
    assert len(provider.html) == 12

    senior = provider.html[reader(1)]
    assert "<strong>Senior</strong><br />" in senior and "your level" in senior
    assert senior.index(SF_JOB) < senior.index(US_CANADA_JOB) < senior.index(LONDON_JOB)
    assert "Roles in United States first." in senior
    assert "Senior (your level)" in provider.text[reader(1)]
    assert "tailored to your profile (Senior · United States)" in provider.text[reader(1)]

    london = provider.html[reader(7)]
    assert london.index(LONDON_JOB) < london.index(SF_JOB)
    assert "your level" not in london

    assert "tailored to your profile (SE manager)" in provider.text[reader(5)]
    for n in range(1, 13):
        got_note = MANAGER_NOTE in provider.html[reader(n)]
        assert got_note is (n in MANAGERS), n

    plain = provider.html[reader(12)]
    assert "your level" not in plain and "tailored to your profile" not in plain
    assert plain.index(US_CANADA_JOB) < plain.index(SF_JOB) < plain.index(LONDON_JOB)
    # Nobody's batch mixed variants: one template per provider call.
    for batch in provider.batches:
        bodies = {provider.html[r.email].count("your level") for r in batch.recipients}
        assert len(bodies) == 1


def test_past_the_limit_readers_get_the_default_and_an_unshown_snippet_stays_queued(
    make_pulse: MakePulse, compiles: list[str]
) -> None:
    pulse = make_pulse(max_variants=1)
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    assert len(compiles) == 2
    provider = Recording()
    send(pulse, provider)
    assert "your level" in provider.html[reader(1)]
    for n in [*MANAGERS, *IN_GB, 12]:
        assert "your level" not in provider.html[reader(n)]
        assert MANAGER_NOTE not in provider.html[reader(n)]
    with pulse.db.sessions() as session:
        note = session.scalar(select(Snippet).where(Snippet.title == MANAGER_NOTE))
        assert note is not None and note.status is SnippetStatus.READY


def test_without_profiles_there_are_no_variants_and_every_row_is_default(pulse: Pulse) -> None:
    seed_week_of(pulse, readers=5)
    weekly.build_week(pulse, WEEK)
    begin_send(pulse.db.sessions, WEEK)
    with pulse.db.sessions() as session:
        issue = get_issue(session, WEEK)
        assert stored_variants(session, issue.id) == []
        assert set(session.scalars(select(Delivery.variant))) == {None}


def test_a_profile_changed_after_the_rows_are_made_keeps_its_variant(pulse: Pulse) -> None:
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    begin_send(pulse.db.sessions, WEEK)
    set_profile(pulse, SENIOR_US, level=None, region=None)
    set_profile(pulse, [12], role="se-manager")
    provider = Recording()
    send(pulse, provider)
    assert "your level" in provider.html[reader(1)]
    assert MANAGER_NOTE not in provider.html[reader(12)]


def test_a_rebuild_replans_the_variants(pulse: Pulse) -> None:
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    set_profile(pulse, IN_GB, region=None)
    weekly.build_week(pulse, WEEK, rebuild=True)
    with pulse.db.sessions() as session:
        issue = get_issue(session, WEEK)
        keys = [row.key for row in stored_variants(session, issue.id)]
    assert keys == ["level=senior,region=US", "role=se-manager"]


def test_the_cli_lists_variants_and_previews_one(
    pulse: Pulse, cli: Cli, workspace: Workspace
) -> None:
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    listed = cli("issue", "variants", "--week", WEEK)
    assert listed.exit_code == 0, listed.stderr
    assert "default" in listed.stdout and "level=senior,region=US" in listed.stdout
    cells = [line.split("│") for line in listed.stdout.splitlines() if line.count("│") == 4]
    rows = {cell[1].strip(): cell[2].strip() for cell in cells}
    assert rows["default"] == "4" and rows["level=senior,region=US"] == "4"

    out = workspace.root / "preview"

    def preview(variant: str) -> CliResult:
        return cli("issue", "preview", "--week", WEEK, "--out", str(out), "--variant", variant)

    shown = preview("level=senior,region=US")
    assert shown.exit_code == 0, shown.stderr
    assert "your level" in (out / "issue.html").read_text(encoding="utf-8")
    fallback = preview("level=staff,region=US")
    assert "gets the default variant" in fallback.stdout
    assert "your level" not in (out / "issue.html").read_text(encoding="utf-8")

    bad = preview("level=junior")
    assert bad.exit_code != 0
    assert "level" in bad.stderr and "senior" in bad.stderr
    unknown = preview("team=x")
    assert unknown.exit_code != 0 and "level, region, role" in unknown.stderr


def test_content_add_aims_a_snippet_at_roles_and_refuses_unknown_ones(
    pulse: Pulse, cli: Cli
) -> None:
    added = cli(
        "content", "add", "--section", "quick-links", "--title", "For managers",
        "--roles", "SE-Manager, ai-se",
    )
    assert added.exit_code == 0, added.stderr
    assert "for ai-se,se-manager" in added.stdout
    refused = cli(
        "content", "add", "--section", "quick-links", "--title", "x", "--roles", "ai-se,ceo"
    )
    assert refused.exit_code != 0 and "roles" in refused.stderr and "se-manager" in refused.stderr
    with pulse.db.sessions() as session:
        titles = list(session.scalars(select(Snippet.title)))
    assert titles == ["For managers"]


def test_lint_judges_every_variant_and_names_the_one_at_fault(pulse: Pulse) -> None:
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    assert check.lint_week(pulse, WEEK) == []
    with transaction(pulse.db.sessions) as session:
        issue = get_issue(session, WEEK)
        variant = stored_variants(session, issue.id)[0]
        variant.html = variant.html.replace("%%pulse:unsubscribe_url%%", "#")
    problems = check.lint_week(pulse, WEEK)
    assert "variant level=senior,region=US: HTML has no unsubscribe link" in problems
    assert all(problem.startswith("variant level=senior,region=US: ") for problem in problems)


def test_claims_take_one_variant_at_a_time_and_every_row_once(pulse: Pulse) -> None:
    seed_profiles(pulse)
    weekly.build_week(pulse, WEEK)
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    claimed: list[tuple[int, str | None]] = []
    while True:
        with transaction(pulse.db.sessions) as session:
            batch = claim_batch(session, issue.id, 5)
        if batch is None:
            break
        assert len({row.variant for row in batch.rows}) == 1
        claimed += [(row.delivery_id, row.variant) for row in batch.rows]
    assert len(claimed) == len({delivery_id for delivery_id, _ in claimed}) == 12
    with pulse.db.sessions() as session:
        stored = dict(session.execute(select(Delivery.id, Delivery.variant)).all())
    assert dict(claimed) == stored
