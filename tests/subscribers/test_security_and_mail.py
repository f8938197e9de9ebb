"""Security headers everywhere, the transactional sender, the rate limiter."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.headerregistry import Address

import pytest
from fastapi.testclient import TestClient

from pipeline.delivery.message import Batch
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.delivery.providers.errors import TransientProviderError
from pipeline.delivery.transactional import TransactionalSender
from pipeline.errors import SendFailed
from pipeline.wiring import Pulse
from subscribers.outgoing import OutgoingEmail
from subscribers.ratelimit import SlidingWindowLimiter
from tests.conftest import Workspace


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/healthz"),
        ("GET", "/confirm/bad"),
        ("GET", "/u/bad"),
        ("POST", "/u/bad"),
        ("GET", "/preferences/bad"),
        ("GET", "/no-such-page"),
        ("POST", "/subscribe"),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, headers={"accept": "text/html"})
    assert response.status_code < 500
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unknown_pages_get_a_friendly_html_page_or_json(client: TestClient) -> None:
    html = client.get("/no-such-page", headers={"accept": "text/html"})
    assert html.status_code == 404 and "Page not found" in html.text
    # Issue 21: a public address answers the HTML page whatever the client accepts;
    # machine endpoints (the API) keep their JSON.
    curl = client.get("/no-such-page", headers={"accept": "*/*"})
    assert curl.status_code == 404 and "Page not found" in curl.text
    assert curl.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_transactional_email_is_one_recipient_batch_in_the_file_outbox(
    workspace: Workspace, site: Pulse
) -> None:
    send = TransactionalSender(site.provider, site.settings.sender)
    for _ in range(2):
        send(
            OutgoingEmail(
                to="zoe@example.com",
                to_name="Zoë %%pulse:first_name%%",
                subject="Confirm",
                html="<p>%%pulse:unsubscribe_url%% stays literal</p>",
                text="text part",
                kind="confirm",
            )
        )
    files = sorted((workspace.outbox / "transactional").glob("*.eml"))
    assert len(files) == 2
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert messages[0]["Message-ID"] != messages[1]["Message-ID"]
    first = messages[0]
    assert first["To"].addresses[0].addr_spec == "zoe@example.com"  # type: ignore[attr-defined]
    assert first["Auto-Submitted"] == "auto-generated" and first["Date"]
    html = first.get_body(preferencelist=("html",))
    assert html is not None and "%%pulse:unsubscribe_url%% stays literal" in html.get_content()  # type: ignore[attr-defined]


class RefusingProvider(Provider):
    name = "refusing"
    capabilities = Capabilities(max_batch=1)

    def send_batch(self, batch: Batch) -> list[SendResult]:
        return [
            SendResult(r.delivery_id, SendStatus.INVALID, error="bad address")
            for r in batch.recipients
        ]


class FailingProvider(Provider):
    name = "failing"
    capabilities = Capabilities(max_batch=1)

    def send_batch(self, batch: Batch) -> list[SendResult]:
        raise TransientProviderError(self.name, "down for maintenance", status_code=503)


def test_a_refused_transactional_email_raises_send_failed_for_good() -> None:
    # SendEmail's contract: SendFailed and nothing else (issue 14), permanent for a refusal.
    send = TransactionalSender(RefusingProvider, Address("Pulse", "pulse", "example.com"))
    with pytest.raises(SendFailed, match="bad address") as caught:
        send(OutgoingEmail(to="a@example.com", subject="s", html="<p>h</p>", text="t"))
    assert caught.value.permanent


def test_a_provider_failure_is_raised_as_send_failed_with_the_provider_error_as_cause() -> None:
    send = TransactionalSender(FailingProvider, Address("Pulse", "pulse", "example.com"))
    with pytest.raises(SendFailed, match="down for maintenance") as caught:
        send(OutgoingEmail(to="a@example.com", subject="s", html="<p>h</p>", text="t"))
    assert isinstance(caught.value.__cause__, TransientProviderError)
    assert not caught.value.permanent


def test_sliding_window_limiter_allows_n_per_window_then_reports_the_wait() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(2, 60, clock=lambda: now[0], max_keys=2)
    assert limiter.hit("a") is None and limiter.hit("a") is None
    wait = limiter.hit("a")
    assert wait is not None and 1 <= wait <= 60
    assert limiter.hit("b") is None  # other keys are independent
    now[0] += 61
    assert limiter.hit("a") is None  # the window slid
    limiter.hit("c")
    limiter.hit("d")
    assert len(limiter._hits) == 2  # bounded memory


def test_access_log_lines_never_carry_tokens(
    client: TestClient, site: Pulse, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from subscribers.web.security import RedactTokensFilter

    token = site.signer.unsubscribe_token(7)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", f"/u/{token}", "1.1", 200),
        None,
    )
    RedactTokensFilter().filter(record)
    assert token not in record.getMessage() and "/u/…" in record.getMessage()
    assert any(
        isinstance(f, RedactTokensFilter) for f in logging.getLogger("uvicorn.access").filters
    )
