"""Click tokens: one keyed hash per delivery, each link's tag its own; old tokens still work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import Signer
from sqlalchemy import select, update

from pipeline.analytics.models import Engagement
from pipeline.analytics.tokens import OPEN, TOKEN_LIFETIME, BadClickToken, ClickSigner
from pipeline.issues.links import links_from_json
from pipeline.issues.models import Issue
from pulse_core.database import transaction, utcnow
from tests.analytics.conftest import BROWSER, WEEK, SentIssue
from tests.forgery import altered

SIGNER = ClickSigner(["new-key", "old-key"])
ids = st.integers(1, 10**11)
positions = st.integers(OPEN, 300)


def legacy_token(secret: str, delivery_id: int, issue_id: int, position: int) -> str:
    """A token as issues sent before the per-delivery tags carry them (itsdangerous HMAC)."""
    return Signer(secret, salt="pulse.click").sign(f"{delivery_id}.{issue_id}.{position}").decode()


def issue_of(sent: SentIssue) -> tuple[int, list[str]]:
    with transaction(sent.pulse.db.sessions) as session:
        issue = session.scalar(select(Issue).where(Issue.week_key == WEEK))
        assert issue is not None
        return issue.id, [link.url for link in links_from_json(issue.links_json)]


@given(delivery=ids, issue=ids, wanted=st.lists(positions, min_size=1, max_size=20))
def test_every_token_of_a_delivery_reads_back_as_its_own_link(
    delivery: int, issue: int, wanted: list[int]
) -> None:
    tokens = SIGNER.tokens(delivery, issue, wanted)
    for position, token in zip(wanted, tokens, strict=True):
        target = SIGNER.read(token)
        assert (target.delivery_id, target.issue_id, target.position) == (
            delivery,
            issue,
            position,
        )
        assert token == SIGNER.token(delivery, issue, position)  # one at a time: the same


@given(delivery=ids, issue=ids, mine=positions, other=positions)
def test_one_links_tag_never_opens_another_link(
    delivery: int, issue: int, mine: int, other: int
) -> None:
    """The per-delivery hash is reused, but each link's tag is its own slice of it."""
    if mine == other:
        return
    token = SIGNER.token(delivery, issue, mine)
    head, _position, tag = token.rsplit(".", 2)
    with pytest.raises(BadClickToken):
        SIGNER.read(f"{head}.{other}.{tag}")


def test_tokens_minted_with_an_old_key_or_in_the_old_format_still_verify() -> None:
    old = ClickSigner(["old-key"])
    assert SIGNER.read(old.token(7, 3, 2)).position == 2
    assert SIGNER.read(legacy_token("old-key", 7, 3, 2)).position == 2
    assert SIGNER.read(legacy_token("new-key", 7, 3, OPEN)).position == OPEN
    for forged in (
        legacy_token("someone-else", 7, 3, 2),
        altered(legacy_token("new-key", 7, 3, 2)),
        legacy_token("new-key", 7, 3, 2).replace("7.3.2", "7.3.1"),
        ClickSigner(["someone-else"]).token(7, 3, 2),
        SIGNER.token(7, 3, 2).replace("7.3.", "+7.3."),
        SIGNER.token(7, 3, 2).replace("7.3.2", "7.3.02"),
        SIGNER.token(7, 3, 10_000),
    ):
        with pytest.raises(BadClickToken):
            SIGNER.read(forged)


def test_a_link_from_an_issue_sent_before_the_new_format_still_redirects(sent: SentIssue) -> None:
    issue_id, links = issue_of(sent)
    token = legacy_token(sent.pulse.settings.secret_keys()[0], 1, issue_id, 1)
    answer = sent.client.get(f"/c/{token}", headers={"user-agent": BROWSER})
    assert answer.status_code == 302
    assert answer.headers["location"] == links[1]


def test_a_token_outlives_its_issue_only_by_the_token_lifetime(sent: SentIssue) -> None:
    issue_id, _links = issue_of(sent)
    token = ClickSigner(sent.pulse.settings.secret_keys()).token(1, issue_id, 0)
    with transaction(sent.pulse.db.sessions) as session:
        session.execute(
            update(Issue)
            .where(Issue.id == issue_id)
            .values(send_started_at=utcnow() - TOKEN_LIFETIME - timedelta(days=1))
        )
    answer = sent.client.get(f"/c/{token}", headers={"user-agent": BROWSER})
    assert answer.status_code == 404
    assert 'href="http://127.0.0.1:8000/issues"' in answer.text  # the issue is in the archive
    with transaction(sent.pulse.db.sessions) as session:
        assert session.scalars(select(Engagement)).all() == []
