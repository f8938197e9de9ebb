"""The desk's preview shows each tailored variant of a built issue, picked from a list."""

from __future__ import annotations

from sqlalchemy import select

from pipeline.content.models import Snippet
from pipeline.workflow import weekly
from tests.admin.conftest import Desk, api_token_for, csrf_of
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


def test_the_desk_and_the_api_aim_snippets_at_roles(desk: Desk) -> None:
    client = desk.editor()
    form = {
        "csrf_token": csrf_of(client, "/admin/content"),
        "section": "quick-links",
        "title": "For managers",
        "status": "ready",
        "target_roles": "se-manager",
    }
    assert "Queued" in client.post("/admin/content", data=form).text
    bad = client.post("/admin/content", data=form | {"target_roles": "se-manager,<b>boss</b>"})
    assert bad.status_code == 400 and "target_roles:" in bad.text and "<b>boss" not in bad.text

    api = desk.client()
    api.headers["Authorization"] = f"Bearer {api_token_for(desk.pulse, desk.editor_id)}"
    made = api.post(
        "/api/v1/snippets",
        json={"section": "quick-links", "title": "T", "target_roles": ["ai-se", "other"]},
    )
    assert made.status_code == 201 and made.json()["target_roles"] == ["ai-se", "other"]
    refused = api.post(
        "/api/v1/snippets", json={"section": "quick-links", "title": "T", "target_roles": ["x"]}
    )
    assert refused.status_code == 422 and refused.json()["detail"]["field"] == "target_roles"
    with desk.pulse.db.sessions() as session:
        roles = sorted(filter(None, session.scalars(select(Snippet.target_roles))))
    assert roles == ["ai-se,other", "se-manager"]
