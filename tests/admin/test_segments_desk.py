"""Segments on the desk: counts by profile, growth by segment, a segment's CSV (admins)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from pipeline.admin.segment_stats import OTHERS, TOP_VALUES, weekly_confirmed_by
from pulse_core.database import transaction, utcnow
from subscribers.history import change_status
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.profile import REGIONS
from subscribers.service import add_subscriber
from tests.admin.conftest import Desk


def _reader(desk: Desk, email: str, *, level: str | None, region: str | None) -> None:
    with transaction(desk.pulse.db.sessions) as session:
        person, _ = add_subscriber(
            session, email, consent_text="booth", consent_source="t",
            status=SubscriberStatus.PENDING,
        )  # fmt: skip
        person.level, person.region = level, region
        change_status(session, person, SubscriberStatus.ACTIVE, cause="confirm")


def test_the_people_page_counts_readers_by_segment_and_draws_growth(desk: Desk) -> None:
    _reader(desk, "a@example.com", level="senior", region="GB")
    _reader(desk, "b@example.com", level="senior", region="US")
    _reader(desk, "c@example.com", level=None, region="US")
    page = desk.editor().get("/admin/subscribers").text
    level = page.split('id="segment-level"')[1].split("</table>")[0]
    assert '<td data-value="senior">2</td>' in level and '<td data-value="none">1</td>' in level
    assert "export.csv" not in page  # editors see counts, not addresses
    assert "New confirmed readers per week by level" in page
    assert ": 2 senior</title>" in page and ": 1 none</title>" in page
    by_region = desk.editor().get("/admin/subscribers", params={"by": "region"}).text
    assert ": 2 us</title>" in by_region
    refused = desk.editor().get("/admin/subscribers", params={"by": "email"})
    assert refused.status_code == 400


def test_an_admin_downloads_a_segments_readers_formula_safe(desk: Desk) -> None:
    _reader(desk, "=cmd@example.com", level="staff", region="GB")
    _reader(desk, "b@example.com", level="mid", region="GB")
    admin = desk.admin()
    assert "export.csv?segment=level%3Dstaff" in admin.get("/admin/subscribers").text
    response = admin.get("/admin/subscribers/export.csv", params={"segment": "level=staff"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["email"].startswith("'=") and row["level"] == "staff"
    bad = admin.get("/admin/subscribers/export.csv", params={"segment": "level=junior"})
    assert bad.status_code == 400 and "level" in bad.text
    editor = desk.editor().get("/admin/subscribers/export.csv", params={"segment": "level=mid"})
    assert editor.status_code in (303, 403)


def test_growth_by_segment_buckets_weeks_and_folds_the_smallest_values(desk: Desk) -> None:
    regions = list(REGIONS)[: TOP_VALUES + 2]
    for index, region in enumerate(regions):
        for n in range(len(regions) - index):
            _reader(desk, f"{region}{n}@example.com", level=None, region=region)
    with transaction(desk.pulse.db.sessions) as session:
        growth = weekly_confirmed_by(session, "region", utcnow())
        later = weekly_confirmed_by(session, "region", utcnow() + timedelta(weeks=1))
    assert [label for label, _ in growth.series] == [*regions[:TOP_VALUES], OTHERS]
    assert growth.series[0][1][-1] == len(regions) and growth.series[-1][1][-1] == 2 + 1
    assert sum(sum(values) for _label, values in growth.series) == sum(range(1, len(regions) + 1))
    assert later.series[0][1][-1] == 0 and later.series[0][1][-2] == len(regions)


def test_a_subscribers_page_shows_their_profile(desk: Desk) -> None:
    _reader(desk, "a@example.com", level="senior", region="GB")
    with transaction(desk.pulse.db.sessions) as session:
        person_id = session.query(Subscriber.id).scalar()
    page = desk.editor().get(f"/admin/subscribers/{person_id}").text
    shown = page.split('id="subscriber-profile">')[1].split("</td>")[0]
    assert shown == "role: — · level: senior · region: GB · timezone: —"
