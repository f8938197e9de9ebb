"""The desk's preview shows each tailored variant of a built issue, picked from a list."""

from __future__ import annotations

from pipeline.workflow import weekly
from tests.admin.conftest import Desk
from tests.delivery.test_variants import seed_profiles
from tests.harness.seed import WEEK


def test_the_preview_offers_each_variant_and_renders_the_one_picked(desk: Desk) -> None:
    seed_profiles(desk.pulse)
    weekly.build_week(desk.pulse, WEEK)
    client = desk.editor()
    page = client.get("/admin/issue", params={"week": WEEK})
    assert page.status_code == 200
    assert "variant=level%3Dsenior%2Cregion%3DUS" in page.text and "role=se-manager" in page.text
    plain = client.get("/admin/issue/render.html", params={"week": WEEK})
    assert "your level" not in plain.text
    picked = {"week": WEEK, "variant": "level=senior,region=US"}
    assert "your level" in client.get("/admin/issue/render.html", params=picked).text
    shown = client.get("/admin/issue", params=picked)
    assert "Senior (your level)" in shown.text  # the text part, in the page
    bad = client.get("/admin/issue", params={"week": WEEK, "variant": "level=<script>"})
    assert bad.status_code == 422 and "<script>" not in bad.text
