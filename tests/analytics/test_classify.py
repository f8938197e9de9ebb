"""The human-vs-machine rules, one by one, and properties of the whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.analytics import classify as rules
from pipeline.analytics.classify import Fact, classify
from pipeline.analytics.privacy import agent_family, network_of

SENT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def click(seconds: float, position: int = 0, **overrides: object) -> Fact:
    values: dict[str, object] = {
        "at": SENT + timedelta(seconds=seconds),
        "method": "GET",
        "prefetch": False,
        "agent": "browser",
        "position": position,
    }
    values.update(overrides)
    return Fact(**values)  # type: ignore[arg-type]


def test_a_browser_click_an_hour_after_the_send_is_human() -> None:
    assert classify([click(3600)], SENT) == [()]


def test_a_click_seconds_after_delivery_is_a_machine() -> None:
    assert classify([click(2)], SENT) == [(rules.FAST,)]


def test_head_and_prefetch_requests_are_machines() -> None:
    assert classify([click(3600, method="HEAD")], SENT) == [(rules.HEAD,)]
    assert classify([click(3600, prefetch=True)], SENT) == [(rules.PREFETCH,)]


def test_scanner_and_program_agents_are_machines() -> None:
    for agent in ("scanner:proofpoint", "program", "empty"):
        assert classify([click(3600, agent=agent)], SENT) == [(rules.AGENT,)]


def test_many_links_in_one_second_are_a_burst_even_when_recorded_one_by_one() -> None:
    burst = [click(3600 + i * 0.2, position=i) for i in range(3)]
    assert all(rules.BURST in reasons for reasons in classify(burst, SENT))
    # Two links in a second can be a quick reader: not a burst.
    assert classify(burst[:2], SENT) == [(), ()]


def test_the_same_link_clicked_twice_quickly_is_no_burst() -> None:
    double = [click(3600, position=1), click(3600.3, position=1), click(3600.6, position=1)]
    assert classify(double, SENT) == [(), (), ()]


def test_a_decoy_hit_marks_the_delivery_s_clicks_around_it() -> None:
    facts = [click(3600, position=0), click(3630, position=9, decoy=True), click(9000, position=1)]
    assert classify(facts, SENT) == [(rules.NEAR_DECOY,), (rules.DECOY,), ()]


def test_apple_privacy_proxy_opens_are_machines() -> None:
    open_ = click(3600, position=None, agent="apple-mpp")
    assert classify([open_], SENT) == [(rules.APPLE,)]


def test_agent_families() -> None:
    assert agent_family(None) == "empty"
    assert agent_family("Mozilla/5.0 (compatible; Proofpoint URL Defense)") == "scanner:proofpoint"
    assert agent_family("python-requests/2.32") == "program"
    assert agent_family("Mozilla/5.0", "17.58.1.2") == "apple-mpp"
    assert agent_family("Mozilla/5.0", "203.0.113.9") != "apple-mpp"
    assert agent_family("Mozilla/5.0 (Windows NT 10.0) Chrome/120 Safari/537.36") == "browser"
    assert agent_family("Mozilla/5.0 (Windows NT 5.1; rv:11.0) GoogleImageProxy") == "proxy:gmail"


def test_networks_are_truncated_and_junk_is_dropped() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("not an ip") is None
    assert network_of(None) is None


facts = st.builds(
    Fact,
    at=st.integers(0, 7200).map(lambda s: SENT + timedelta(seconds=s)),
    method=st.sampled_from(["GET", "HEAD", "OPTIONS"]),
    prefetch=st.booleans(),
    agent=st.sampled_from(["browser", "program", "empty", "scanner:mimecast", "other"]),
    position=st.one_of(st.none(), st.integers(0, 12)),
    decoy=st.booleans(),
)


@given(st.lists(facts, max_size=12))
def test_every_machine_verdict_names_known_rules(found: list[Fact]) -> None:
    verdicts = classify(found, SENT)
    assert len(verdicts) == len(found)
    for reasons in verdicts:
        assert set(reasons) <= set(rules.RULES)


@given(st.lists(facts, max_size=8), facts)
def test_adding_a_click_never_turns_a_machine_into_a_human(found: list[Fact], extra: Fact) -> None:
    before = classify(found, SENT)
    after = classify([*found, extra], SENT)
    for old, new in zip(before, after, strict=False):
        assert set(old) <= set(new)
