"""``/metrics``: the counters an operator alerts on, and who may read them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from pipeline import gauges, metrics
from pipeline.delivery.engine import begin_send, pause_send
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from pipeline.workflow import weekly
from tests.conftest import Cli, MakePulse, Workspace
from tests.delivery.conftest import WEEK, provider_env, seed_and_build
from tests.events.conftest import fixture, postmark_auth
from tests.fakes import FAKES
from tests.fakes.base import Fault


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: TestClient) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            key, number = line.rsplit(" ", 1)
            samples[key] = float(number)
    return samples


@pytest.fixture
def web(pulse: Pulse) -> Iterator[TestClient]:
    with TestClient(create_app(pulse)) as client:
        yield client


def test_after_a_demo_send_metrics_show_progress_and_the_list(cli: Cli, pulse: Pulse) -> None:
    sent_before = value("pulse_messages_sent_total", provider="file")
    assert cli("demo", "--subscribers", "25").exit_code == 0
    assert value("pulse_messages_sent_total", provider="file") - sent_before == 25
    with TestClient(create_app(pulse)) as client:
        samples = scrape(client)
    week = weekly.resolve_week(pulse, None)
    assert samples[f'pulse_issue_deliveries{{status="sent",week="{week}"}}'] == 25
    assert samples[f'pulse_issue_progress_ratio{{week="{week}"}}'] == 1.0
    assert samples[f'pulse_issue_state{{state="sent",week="{week}"}}'] == 1.0
    assert samples[f'pulse_issue_send_paused{{week="{week}"}}'] == 0.0
    assert samples[f'pulse_issue_hard_bounce_ratio{{week="{week}"}}'] == 0.0
    assert samples['pulse_subscribers{status="active"}'] >= 25
    assert sum(v for k, v in samples.items() if k.startswith("pulse_signups_total")) >= 25
    assert samples["pulse_database_up"] == 1.0


def test_signups_confirmations_and_unsubscribes_are_counted_from_the_database(
    cli: Cli, pulse: Pulse, web: TestClient
) -> None:
    assert (
        cli(
            "subscribers", "add", "ana@example.com", "--consent", "x", "--require-confirmation"
        ).exit_code
        == 0
    )
    before = scrape(web)
    assert before['pulse_signups_total{cause="admin"}'] == 1
    assert not any(k.startswith("pulse_confirmations_total") for k in before)
    assert web.post(f"/confirm/{pulse.signer.confirm_token(1)}").status_code == 200
    confirmed = scrape(web)
    assert confirmed['pulse_confirmations_total{cause="confirm"}'] == 1
    assert confirmed['pulse_subscribers{status="active"}'] == 1
    one_click = {"List-Unsubscribe": "One-Click"}
    assert web.post(f"/u/{pulse.signer.unsubscribe_token(1)}", data=one_click).status_code == 200
    left = scrape(web)
    assert left['pulse_unsubscribes_total{cause="unsubscribe:one-click"}'] == 1
    assert left['pulse_subscribers{status="unsubscribed"}'] == 1


def test_a_paused_send_shows_in_the_gauge(configure: Callable[..., Pulse]) -> None:
    pulse = configure()
    seed_and_build(pulse, readers=3)
    issue, _created = begin_send(pulse.db.sessions, WEEK)
    assert pause_send(pulse.db.sessions, issue.id, "test pause")
    with TestClient(create_app(pulse)) as client:
        samples = scrape(client)
    assert samples[f'pulse_issue_send_paused{{week="{WEEK}"}}'] == 1.0
    assert samples[f'pulse_issue_deliveries{{status="pending",week="{WEEK}"}}'] == 3


def test_provider_errors_and_retries_are_counted_by_provider_and_kind(
    configure: Callable[..., Pulse],
) -> None:
    with FAKES["postmark"]() as fake:
        pulse = configure(**provider_env(fake))
        seed_and_build(pulse, readers=4)
        fake.faults.append(Fault("status", 503))
        transient = value("pulse_provider_errors_total", provider="postmark", kind="transient")
        sent = value("pulse_messages_sent_total", provider="postmark")
        batches = value("pulse_batch_seconds_count", provider="postmark")
        report = weekly.send_week(pulse, WEEK)
    assert report.sent == 4
    assert value("pulse_provider_errors_total", provider="postmark", kind="transient") == (
        transient + 1
    )
    assert value("pulse_messages_sent_total", provider="postmark") == sent + 4
    assert value("pulse_batch_seconds_count", provider="postmark") >= batches + 2


def test_rate_limit_waits_are_counted(configure: Callable[..., Pulse]) -> None:
    pulse = configure(PULSE_SEND_RATE="5")
    seed_and_build(pulse, readers=8)  # 5 a second: the last batches wait for the window
    waits = value("pulse_rate_limit_waits_total")
    seconds = value("pulse_rate_limit_wait_seconds_total")
    assert weekly.send_week(pulse, WEEK).sent == 8
    assert value("pulse_rate_limit_waits_total") > waits
    assert value("pulse_rate_limit_wait_seconds_total") > seconds


def test_webhook_events_are_counted_by_provider_and_type(make_pulse: MakePulse) -> None:
    pulse = make_pulse(postmark_webhook_user="hook", postmark_webhook_password="pw")
    with TestClient(create_app(pulse)) as client:
        bounced = value("pulse_webhook_events_total", provider="postmark", type="bounced")
        refused = value("pulse_webhook_refused_total", provider="postmark", reason="refused")
        ok = client.post(
            "/webhooks/postmark",
            json=fixture("postmark", "hard_bounce"),
            headers=postmark_auth("hook", "pw"),
        )
        assert ok.status_code == 200
        bad = client.post(
            "/webhooks/postmark",
            json=fixture("postmark", "hard_bounce"),
            headers=postmark_auth("hook", "guess"),
        )
        assert bad.status_code == 403
    assert value("pulse_webhook_events_total", provider="postmark", type="bounced") == bounced + 1
    assert value("pulse_webhook_refused_total", provider="postmark", reason="refused") == (
        refused + 1
    )


def test_metrics_refuse_clients_off_the_loopback_without_a_token(pulse: Pulse) -> None:
    app = create_app(pulse)
    with TestClient(app, client=("203.0.113.7", 4000)) as outsider:
        response = outsider.get("/metrics")
    assert response.status_code == 403 and "PULSE_METRICS_TOKEN" in response.text
    with TestClient(app, client=("127.0.0.1", 4000)) as local:
        assert local.get("/metrics").status_code == 200
    with TestClient(app, client=("::1", 4000)) as local6:
        assert local6.get("/metrics").status_code == 200


WRONG_AUTHORIZATIONS = [
    None,
    "Bearer wrong",
    "Bearer ",
    "bearer s3cret-metrics",
    "Basic czNjcmV0",
    "s3cret-metrics",
    "Bearer s3cret-metrics2",
    "Bearer s3cret-metric",
]


def test_a_metrics_token_is_required_when_set(make_pulse: MakePulse) -> None:
    pulse = make_pulse(metrics_token="s3cret-metrics")
    with TestClient(create_app(pulse), client=("127.0.0.1", 4000)) as client:
        for header in WRONG_AUTHORIZATIONS:
            headers = {"Authorization": header} if header is not None else {}
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401, header
            assert "s3cret" not in refused.text
        good = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert good.status_code == 200
    with TestClient(create_app(pulse), client=("203.0.113.7", 4000)) as outsider:
        answer = outsider.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert answer.status_code == 200


def test_an_unreachable_database_reads_as_down_not_an_error(workspace: Workspace) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    broken = sessionmaker(create_engine(f"sqlite:///{workspace.root}/missing/dir/x.db"))
    text = gauges.exposition(broken).decode()
    assert "pulse_database_up 0.0" in text
    assert "pulse_issue_deliveries" not in text


def test_rate_waits_below_the_threshold_do_not_count() -> None:
    waits = value("pulse_rate_limit_waits_total")
    with metrics.rate_limit_wait():
        pass
    assert value("pulse_rate_limit_waits_total") == waits
