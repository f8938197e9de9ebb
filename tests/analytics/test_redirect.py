"""/c/{token}: a genuine token redirects to its own link only; anything else gets the 404 page."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from pipeline.analytics.models import Engagement
from pipeline.analytics.tokens import ClickSigner
from pipeline.issues.links import links_from_json
from pipeline.issues.models import Issue
from pulse_core.database import transaction
from tests.analytics.conftest import BROWSER, WEEK, SentIssue, click_urls, path_of, text_part
from tests.forgery import altered

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def issue_links(sent: SentIssue) -> list[str]:
    with transaction(sent.pulse.db.sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None
        return [link.url for link in links_from_json(issue.links_json)]


def clicks(sent: SentIssue) -> list[Engagement]:
    with transaction(sent.pulse.db.sessions) as session:
        rows = list(session.scalars(select(Engagement).order_by(Engagement.id)))
        session.expunge_all()
        return rows


def test_every_tracked_link_redirects_to_its_own_url_and_is_recorded(sent: SentIssue) -> None:
    links = issue_links(sent)
    message = next(iter(sent.mails().values()))
    urls = click_urls(message)
    assert len(urls) == len(links)  # every link of the issue, the hidden decoy included
    for url in urls:
        answer = sent.client.get(path_of(url), headers={"user-agent": BROWSER})
        assert answer.status_code == 302
        position = int(path_of(url).split("/")[2].split(".")[2])
        assert answer.headers["location"] == links[position]
        assert answer.headers["cache-control"].startswith("no-store")
    recorded = clicks(sent)
    assert [r.position for r in recorded] == list(range(len(links)))
    assert all(r.network is None or r.network.endswith("/24") for r in recorded)


def test_the_text_part_carries_the_same_click_urls(sent: SentIssue) -> None:
    message = next(iter(sent.mails().values()))
    text = text_part(message)
    # Every HTML link but the hidden decoy is in the text part too.
    assert sum(url in text for url in click_urls(message)) == len(click_urls(message)) - 1


def test_each_reader_gets_their_own_tokens(sent: SentIssue) -> None:
    per_reader = [tuple(click_urls(m)) for m in sent.mails().values()]
    assert len(set(per_reader)) == len(per_reader)


def test_footer_says_clicks_are_counted(sent: SentIssue) -> None:
    message = next(iter(sent.mails().values()))
    assert "Clicks on links in this email are counted" in text_part(message)


def test_a_tampered_token_gets_the_not_found_page_with_the_archive_link(sent: SentIssue) -> None:
    url = click_urls(next(iter(sent.mails().values())))[0]
    delivery, issue, position, signature = path_of(url).removeprefix("/c/").split(".")
    for forged in (
        f"{delivery}.{issue}.{int(position) + 1}.{signature}",  # another link of the issue
        f"{int(delivery) + 1}.{issue}.{position}.{signature}",  # another reader
        f"{delivery}.{issue}.{position}.{altered(signature)}",
        f"{delivery}.{issue}.{position}",
        "not-a-token",
    ):
        answer = sent.client.get(f"/c/{forged}", follow_redirects=False)
        assert answer.status_code == 404
        assert 'href="http://127.0.0.1:8000/issues"' in answer.text
        assert "location" not in answer.headers
    assert clicks(sent) == []


def test_a_token_signed_for_a_link_the_issue_lacks_is_not_found(sent: SentIssue) -> None:
    signer = ClickSigner(sent.pulse.settings.secret_keys())
    with transaction(sent.pulse.db.sessions) as session:
        issue_id = session.scalar(select(Issue.id).where(Issue.week_key == WEEK))
    assert issue_id is not None
    for position in (999, -1):
        answer = sent.client.get(f"/c/{signer.token(1, issue_id, position)}")
        assert answer.status_code == 404
    answer = sent.client.get(f"/c/{signer.token(1, issue_id + 50, 0)}")
    assert answer.status_code == 404


@FUZZ
@given(token=st.text(min_size=1, max_size=300).filter(lambda t: t.strip(".") != ""))
def test_arbitrary_tokens_never_redirect_or_fail(sent: SentIssue, token: str) -> None:
    answer = sent.client.get(f"/c/{quote(token, safe='')}", follow_redirects=False)
    if answer.status_code == 307:
        # Starlette drops a trailing slash ("/c/x/" → "/c/x") before our route answers:
        # a same-site hop, which then gets the same 404.
        location = answer.headers["location"]
        assert location.startswith(("/c/", "http://testserver/c/")), (token, location)
        answer = sent.client.get(location, follow_redirects=False)
    assert answer.status_code == 404, token


@FUZZ
@given(data=st.data())
def test_any_single_change_to_a_genuine_token_is_refused(
    sent: SentIssue, data: st.DataObject
) -> None:
    url = click_urls(next(iter(sent.mails().values())))[1]
    token = path_of(url).removeprefix("/c/")
    index = data.draw(st.integers(0, len(token) - 1))
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_."
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[index]))
    forged = token[:index] + replacement + token[index + 1 :]
    answer = sent.client.get(f"/c/{forged}", follow_redirects=False)
    assert answer.status_code == 404, forged


def test_head_requests_redirect_but_count_as_machine(sent: SentIssue) -> None:
    url = click_urls(next(iter(sent.mails().values())))[0]
    answer = sent.client.head(path_of(url), headers={"user-agent": BROWSER})
    assert answer.status_code == 302
    (click,) = clicks(sent)
    assert click.machine and "head-request" in click.reasons


def test_a_database_error_while_recording_still_redirects_the_reader(sent: SentIssue) -> None:
    url = click_urls(next(iter(sent.mails().values())))[0]
    assert sent.client.get(path_of(url)).status_code == 302  # the issue's links are cached now
    sessions = sent.pulse.db.sessions

    def broken(**_kwargs: object) -> object:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    real = sessions.class_
    sessions.class_ = broken  # type: ignore[assignment]
    try:
        answer = sent.client.get(path_of(url))
    finally:
        sessions.class_ = real
    assert answer.status_code == 302


def test_clicks_are_stored_without_the_ip_address(sent: SentIssue) -> None:
    url = click_urls(next(iter(sent.mails().values())))[0]
    sent.client.get(path_of(url), headers={"user-agent": BROWSER, "x-forwarded-for": "1.2.3.4"})
    with transaction(sent.pulse.db.sessions) as session:
        row = session.execute(select(Engagement.__table__)).one()
    stored = json.dumps([str(value) for value in row])
    assert BROWSER not in stored and "testclient" not in stored and "1.2.3.4" not in stored
