"""Profiles from the operator's side: add, import, export, segments, erasure."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.wiring import Pulse
from pulse_core.database import transaction
from pulse_core.errors import ValidationError
from subscribers.models import SubscriberStatus
from subscribers.segments import Segment, all_segment_counts, parse_segment
from subscribers.service import add_subscriber
from tests.conftest import Cli
from tests.subscribers.conftest import all_subscribers, subscriber

CONSENT = "Met at the booth"


def profile_of(pulse: Pulse, address: str) -> tuple[str | None, ...]:
    person = subscriber(pulse, address)
    assert person is not None
    return (person.role, person.level, person.region, person.timezone)


def test_add_sets_a_profile_and_a_second_add_changes_only_what_it_names(
    cli: Cli, site: Pulse
) -> None:
    added = cli(
        "subscribers", "add", "ana@example.com", "--consent", CONSENT, "--role", "AI-SE",
        "--level", "senior", "--region", "gb", "--timezone", "Europe/London",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert profile_of(site, "ana@example.com") == ("ai-se", "senior", "GB", "Europe/London")
    again = cli("subscribers", "add", "ana@example.com", "--consent", CONSENT, "--level", "staff")
    assert again.exit_code == 0 and "already present" in again.stdout
    assert profile_of(site, "ana@example.com") == ("ai-se", "staff", "GB", "Europe/London")


@pytest.mark.parametrize(
    ("option", "value"),
    [("--role", "ceo"), ("--region", "GB\r\nX: y"), ("--timezone", "=?utf-8?q?UTC?=")],
)
def test_add_refuses_a_value_off_the_list_naming_it_and_adds_nobody(
    cli: Cli, site: Pulse, option: str, value: str
) -> None:
    result = cli("subscribers", "add", "bo@example.com", "--consent", CONSENT, option, value)
    assert result.exit_code != 0 and option.lstrip("-") in result.stderr
    assert all_subscribers(site) == []


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_reads_the_profile_columns(cli: Cli, site: Pulse, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "email,Role,Level,Region,Time Zone\n"
        "ana@example.com,ai-se,senior,GB,Europe/London\n"
        "ben@example.com,,,,\n",
    )
    result = cli("subscribers", "import", str(path), "--consent", CONSENT)
    assert result.exit_code == 0, result.stderr
    assert profile_of(site, "ana@example.com") == ("ai-se", "senior", "GB", "Europe/London")
    assert profile_of(site, "ben@example.com") == (None, None, None, None)


def test_a_bad_profile_cell_names_its_line_and_column_and_nothing_is_kept(
    cli: Cli, site: Pulse, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "email,role,level,region,timezone\n"
        "ana@example.com,ai-se,senior,GB,Europe/London\n"
        "ben@example.com,ai-se,junior,GB,\n"
        "cy@example.com,,,,Mars/Base\n",
    )
    result = cli("subscribers", "import", str(path), "--consent", CONSENT)
    assert result.exit_code == 1
    assert "line 3: level" in result.stderr and "line 4: timezone" in result.stderr
    assert all_subscribers(site) == []


def test_export_carries_the_profile_and_erasure_removes_it(cli: Cli, site: Pulse) -> None:
    cli(
        "subscribers", "add", "ana@example.com", "--consent", CONSENT, "--role", "other",
        "--region", "US", "--timezone", "America/Chicago",
    )  # fmt: skip
    record = json.loads(cli("subscribers", "export", "ana@example.com").stdout)
    assert record["profile"] == {
        "role": "other", "level": None, "region": "US", "timezone": "America/Chicago"
    }  # fmt: skip
    [row] = list(csv.DictReader(io.StringIO(cli("subscribers", "export").stdout)))
    assert (row["role"], row["level"], row["region"], row["timezone"]) == (
        "other", "", "US", "America/Chicago"
    )  # fmt: skip
    assert cli("subscribers", "forget", "ana@example.com").exit_code == 0
    [person] = all_subscribers(site)
    assert (person.role, person.level, person.region, person.timezone) == (None,) * 4


def seed(pulse: Pulse) -> None:
    people = [
        ("a@example.com", "ai-se", "senior", "GB", SubscriberStatus.ACTIVE),
        ("b@example.com", "ai-se", "senior", "US", SubscriberStatus.ACTIVE),
        ("c@example.com", "ai-se", "mid", "US", SubscriberStatus.ACTIVE),
        ("d@example.com", None, None, None, SubscriberStatus.ACTIVE),
        ("e@example.com", "ai-se", "senior", "GB", SubscriberStatus.PENDING),
    ]
    with transaction(pulse.db.sessions) as session:
        for address, role, level, region, status in people:
            person, _ = add_subscriber(
                session, address, consent_text=CONSENT, consent_source="t", status=status
            )
            person.role, person.level, person.region = role, level, region


def test_segments_count_active_readers_per_value(cli: Cli, site: Pulse) -> None:
    seed(site)
    with transaction(site.db.sessions) as session:
        counts = all_segment_counts(session)
    assert counts["level"] == [("senior", 2), ("mid", 1), (None, 1)]
    assert counts["region"] == [("US", 2), ("GB", 1), (None, 1)]
    assert counts["timezone"] == [(None, 4)]
    shown = cli("subscribers", "segments", "--by", "region")
    assert shown.exit_code == 0 and "US" in shown.stdout and "(not given)" in shown.stdout
    assert "level" not in shown.stdout
    bad = cli("subscribers", "segments", "--by", "salary")
    assert bad.exit_code != 0 and "by" in bad.stderr


def test_export_of_a_segment_holds_exactly_its_readers(cli: Cli, site: Pulse) -> None:
    seed(site)
    result = cli("subscribers", "export", "--segment", "role=ai-se,level=senior")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["email"] for r in rows) == ["a@example.com", "b@example.com", "e@example.com"]
    unset = cli("subscribers", "export", "--segment", "region=none")
    assert [r["email"] for r in csv.DictReader(io.StringIO(unset.stdout))] == ["d@example.com"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("salary=high", "segment"),
        ("level", "segment"),
        ("level=junior", "level"),
        ("region=GB\r\nX", "region"),
        ("timezone=../../etc", "timezone"),
        ("level=mid,level=senior", "segment"),
        ("role=" + "x" * 400, "segment"),
        ("level=", "level"),
    ],
)
def test_a_bad_segment_names_what_is_wrong(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_segment(text)
    assert caught.value.field == field


def test_a_segment_reads_back_as_written() -> None:
    segment = parse_segment(" Level=Senior , region=gb,timezone=none")
    assert segment == Segment((("level", "senior"), ("region", "GB"), ("timezone", None)))
    assert segment.describe() == "level=senior,region=GB,timezone=none"


@given(st.text(max_size=120))
def test_any_segment_text_is_a_segment_or_a_named_error(text: str) -> None:
    try:
        segment = parse_segment(text)
    except ValidationError as err:
        assert err.field in ("segment", "role", "level", "region", "timezone")
        return
    assert all(name in ("role", "level", "region", "timezone") for name, _ in segment.parts)
