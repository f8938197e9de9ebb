"""The desk's deliverability page shows the checks ``pulse doctor`` runs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.admin.conftest import Desk
from tests.conftest import Workspace
from tests.deliverability.dns_server import dns_server
from tests.deliverability.test_doctor import DOMAIN, GOOD_SENDGRID


@pytest.fixture
def good_dns(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with dns_server(GOOD_SENDGRID) as nameserver:
        monkeypatch.setenv("PULSE_DNS_NAMESERVERS", nameserver)
        monkeypatch.setenv("PULSE_FROM", f"AISE Pulse Brief <pulse@{DOMAIN}>")
        monkeypatch.setenv("PULSE_PROVIDER", "sendgrid")
        monkeypatch.setenv("PULSE_SENDGRID_API_KEY", "SG.test")
        yield


def test_the_desk_shows_each_check_with_its_result(good_dns: None, desk: Desk) -> None:
    editor = desk.editor()
    html = editor.get("/admin/deliverability").text
    rows = dict(re.findall(r'data-check="([^"]+)">.*?<td class="\w+">(\w+)</td>', html, re.S))
    assert rows == {
        "sending domain": "pass",
        "SPF": "pass",
        "DKIM": "pass",
        "DMARC": "pass",
        "bounce domain MX": "pass",
        "one-click unsubscribe": "fail",  # PULSE_BASE_URL is http here
        "postal address": "pass",
    }
    assert "1 failed" in html and "RFC 8058 needs https" in html


def test_the_page_is_for_signed_in_editors_only(good_dns: None, desk: Desk) -> None:
    answer = desk.client().get("/admin/deliverability", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login")
