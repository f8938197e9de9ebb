"""Every desk and API route, tried as anonymous, editor and admin, and without CSRF tokens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from pipeline.content.queue import add_snippet
from pulse_core.database import transaction
from subscribers.service import add_subscriber
from tests.admin.conftest import Desk, api_token_for, csrf_of, make_editor


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: access rules do not depend on the database, and this suite is long.

    Every data path these routes use is also run against PostgreSQL by the other tests.
    """
    return sqlite_url


PUBLIC, EDITOR, ADMIN, API = "public", "editor", "admin", "api"

# Who may use each route. The test below fails when a route is added without a line here.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/admin/login"): PUBLIC,
    ("POST", "/admin/login"): PUBLIC,
    ("GET", "/admin/set-password/{token}"): PUBLIC,
    ("POST", "/admin/set-password/{token}"): PUBLIC,
    ("GET", "/admin/static/desk.js"): PUBLIC,
    ("GET", "/admin/static/desk.css"): PUBLIC,
    ("POST", "/admin/logout"): EDITOR,
    ("GET", "/admin"): EDITOR,
    ("GET", "/admin/deliverability"): EDITOR,
    ("GET", "/admin/content"): EDITOR,
    ("POST", "/admin/content"): EDITOR,
    ("POST", "/admin/content/markdown-preview"): EDITOR,
    ("GET", "/admin/content/{snippet_id}/edit"): EDITOR,
    ("POST", "/admin/content/{snippet_id}/edit"): EDITOR,
    ("POST", "/admin/content/{snippet_id}/move"): EDITOR,
    ("POST", "/admin/content/{snippet_id}/retire"): EDITOR,
    ("GET", "/admin/salary"): EDITOR,
    ("POST", "/admin/salary"): EDITOR,
    ("POST", "/admin/salary/import"): EDITOR,
    ("GET", "/admin/jobs"): EDITOR,
    ("POST", "/admin/jobs"): EDITOR,
    ("GET", "/admin/jobs/review"): EDITOR,
    ("POST", "/admin/jobs/review"): EDITOR,
    ("POST", "/admin/jobs/sources"): EDITOR,
    ("POST", "/admin/jobs/sources/remove"): EDITOR,
    ("POST", "/admin/jobs/fetch"): EDITOR,
    ("GET", "/admin/salary/{point_id}/edit"): EDITOR,
    ("POST", "/admin/salary/{point_id}/edit"): EDITOR,
    ("POST", "/admin/salary/{point_id}/remove"): EDITOR,
    ("GET", "/admin/jobs/{job_id}/edit"): EDITOR,
    ("POST", "/admin/jobs/{job_id}/edit"): EDITOR,
    ("POST", "/admin/jobs/{job_id}/remove"): EDITOR,
    ("GET", "/admin/comparisons"): EDITOR,
    ("POST", "/admin/comparisons"): EDITOR,
    ("POST", "/admin/comparisons/{key}/remove"): EDITOR,
    ("GET", "/admin/issue"): EDITOR,
    ("GET", "/admin/issue/render.html"): EDITOR,
    ("POST", "/admin/issue/build"): EDITOR,
    ("POST", "/admin/issue/test-send"): EDITOR,
    ("GET", "/admin/issue/confirm/{action}"): EDITOR,
    ("POST", "/admin/issue/{action}"): EDITOR,
    ("GET", "/admin/report"): EDITOR,
    ("GET", "/admin/report.csv"): EDITOR,
    ("GET", "/admin/report.json"): EDITOR,
    ("GET", "/admin/deliveries"): EDITOR,
    ("GET", "/admin/deliveries.csv"): EDITOR,
    ("POST", "/admin/deliveries/retry-failed"): EDITOR,
    ("GET", "/admin/subscribers"): EDITOR,
    ("GET", "/admin/subscribers/export.csv"): ADMIN,
    ("GET", "/admin/growth"): EDITOR,
    ("GET", "/admin/subscribers/{subscriber_id}"): EDITOR,
    ("POST", "/admin/subscribers/{subscriber_id}/unsubscribe"): ADMIN,
    ("POST", "/admin/subscribers/{subscriber_id}/forget"): ADMIN,
    ("POST", "/admin/subscribers/import"): ADMIN,
    ("GET", "/admin/tokens"): EDITOR,
    ("POST", "/admin/tokens"): EDITOR,
    ("POST", "/admin/tokens/{token_id}/revoke"): EDITOR,
    ("GET", "/admin/editors"): ADMIN,
    ("POST", "/admin/editors"): ADMIN,
    ("POST", "/admin/editors/{editor_id}/role"): ADMIN,
    ("POST", "/admin/editors/{editor_id}/disable"): ADMIN,
    ("GET", "/api/v1/snippets"): API,
    ("POST", "/api/v1/snippets"): API,
    ("GET", "/api/v1/salary-points"): API,
    ("POST", "/api/v1/salary-points"): API,
    ("GET", "/api/v1/jobs"): API,
    ("POST", "/api/v1/jobs"): API,
    ("GET", "/api/v1/issues/{week}"): API,
}


def _walk(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI ≥ 0.16x keeps included routers as branches holding the original router.
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from _walk(original.routes)


def desk_routes(desk: Desk) -> set[tuple[str, str]]:
    found = set()
    for route in _walk(desk.app.routes):
        if route.path.startswith(("/admin", "/api/v1")):
            for method in route.methods:
                found.add((method, route.path))
    return found


@pytest.fixture
def targets(desk: Desk) -> dict[str, str]:
    """Real ids to put in the routes' path parameters."""
    victim = make_editor(desk.pulse, "victim@example.com", "editor")
    with transaction(desk.pulse.db.sessions) as session:
        snippet = add_snippet(session, section="quick-links", title="A link")
        person, _ = add_subscriber(
            session, "reader@example.com", consent_text="test", consent_source="test"
        )
        ids = {"snippet_id": str(snippet.id), "subscriber_id": str(person.id)}
    api_token_for(desk.pulse, desk.admin_id)
    return {**ids, "editor_id": str(victim), "token_id": "1", "action": "approve",
            "token": "not-a-real-token", "week": "next", "point_id": "1", "job_id": "1",
            "key": "ai-se-vs-mle"}  # fmt: skip


def concrete(path: str, targets: dict[str, str]) -> str:
    return path.format(**targets)


def test_every_desk_route_has_an_access_rule(desk: Desk) -> None:
    assert desk_routes(desk) == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), [k for k, v in ROUTES.items() if v in (EDITOR, ADMIN)])
def test_anonymous_visitors_are_sent_to_log_in(
    desk: Desk, targets: dict[str, str], method: str, path: str
) -> None:
    response = desk.client().request(method, concrete(path, targets), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


@pytest.mark.parametrize(("method", "path"), [k for k, v in ROUTES.items() if v == API])
def test_the_api_refuses_requests_without_a_live_token(
    desk: Desk, targets: dict[str, str], method: str, path: str
) -> None:
    client = desk.client()
    url = concrete(path, targets)
    assert client.request(method, url).status_code == 401
    bad = {"Authorization": "Bearer pulse_not-a-token"}
    assert client.request(method, url, headers=bad).status_code == 401
    # A browser session is not an API credential.
    assert desk.editor().request(method, url).status_code == 401


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_each_role_gets_exactly_its_routes(desk: Desk, targets: dict[str, str], role: str) -> None:
    client = desk.editor() if role == "editor" else desk.admin()
    csrf = csrf_of(client)
    for (method, path), rule in ROUTES.items():
        if rule in (PUBLIC, API) or path == "/admin/logout":
            continue
        data = {"csrf_token": csrf} if method == "POST" else None
        response = client.request(
            method, concrete(path, targets), data=data, follow_redirects=False
        )
        location = response.headers.get("location", "")
        if rule == ADMIN and role == "editor":
            assert response.status_code == 403, (method, path)
        else:
            assert response.status_code not in (401, 403), (method, path, response.text[:300])
            assert not location.startswith("/admin/login"), (method, path)
            assert response.status_code < 500, (method, path)


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_the_api_serves_both_roles(desk: Desk, targets: dict[str, str], role: str) -> None:
    token = api_token_for(desk.pulse, desk.editor_id if role == "editor" else desk.admin_id)
    client = desk.client()
    headers = {"Authorization": f"Bearer {token}"}
    for (method, path), rule in ROUTES.items():
        if rule != API:
            continue
        response = client.request(method, concrete(path, targets), headers=headers, json={})
        assert response.status_code not in (401, 403), (method, path)
        assert response.status_code < 500, (method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [k for k, v in ROUTES.items() if k[0] == "POST" and v in (EDITOR, ADMIN)],
)
def test_posts_without_the_sessions_csrf_token_are_refused(
    desk: Desk, targets: dict[str, str], method: str, path: str
) -> None:
    client = desk.admin()
    url = concrete(path, targets)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(url, data=data, follow_redirects=False)
        assert response.status_code == 403, (path, data)
    # Another session's token does not work either.
    other = csrf_of(desk.editor())
    assert client.post(url, data={"csrf_token": other}).status_code == 403
