"""``pulse editors add``: an account and a one-time password-set link."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from pipeline.web.app import create_app
from tests.admin.conftest import log_in
from tests.conftest import Cli, MakePulse


def _link(output: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/admin/set-password/\S+)", output)
    assert match, output
    return match.group(1)


def test_the_printed_link_sets_a_password_once(cli: Cli, make_pulse: MakePulse) -> None:
    result = cli("editors", "add", "New.Editor@Example.com", "--role", "admin")
    assert result.exit_code == 0, result.stderr
    assert "New.Editor@example.com (admin)" in result.stdout
    path = _link(result.stdout)
    pulse = make_pulse()
    client = TestClient(create_app(pulse))
    assert client.get(path).status_code == 200
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    done = client.post(
        path, data={"password": "a long enough pass", "confirm": "a long enough pass"}
    )
    assert done.status_code == 200 and "Password set" in done.text
    assert client.get(path).status_code == 404  # spent
    assert log_in(client, "new.editor@example.com", "a long enough pass") == 303
    assert client.get("/admin/editors").status_code == 200  # an admin


def test_adding_again_issues_a_new_link_and_voids_the_old_one(
    cli: Cli, make_pulse: MakePulse
) -> None:
    first = _link(cli("editors", "add", "ed@example.com").stdout)
    second = _link(cli("editors", "add", "ed@example.com").stdout)
    assert first != second
    pulse = make_pulse()
    client = TestClient(create_app(pulse))
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_bad_role_or_address_is_one_clear_line(cli: Cli) -> None:
    result = cli("editors", "add", "ed@example.com", "--role", "owner")
    assert result.exit_code == 1
    assert "role: must be one of editor, admin" in result.stderr
    result = cli("editors", "add", "not-an-address")
    assert result.exit_code == 1
    assert "email:" in result.stderr
