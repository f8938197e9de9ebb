"""The SMTP provider against a real SMTP server (aiosmtpd) over STARTTLS and implicit TLS."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from pipeline.delivery.engine import SendOptions, begin_send, run_send
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.providers.errors import PermanentProviderError
from pipeline.delivery.providers.smtp import SmtpProvider
from pipeline.delivery.retry import RetryPolicy
from pipeline.wiring import Pulse
from pulse_core.database import transaction
from subscribers.models import Subscriber
from tests.delivery.conftest import WEEK, seed_and_build

USER, PASSWORD = "pulse", "s3cret"


class Recorder:
    """An aiosmtpd handler that records deliveries and refuses chosen recipients."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.messages: dict[str, bytes] = {}
        self.refuse: dict[str, list[str]] = {}  # address -> replies to give, in turn
        self.connections: set[object] = set()  # client (host, port) pairs seen
        # Replies to MAIL FROM / DATA, in turn (None: go on as usual; empty: always as usual).
        self.mail_replies: list[str | None] = []
        self.data_replies: list[str | None] = []

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.mail_replies.pop(0) if self.mail_replies else None
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        replies = self.refuse.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.data_replies.pop(0) if self.data_replies else None
        if reply is not None:
            return reply
        self.connections.add(tuple(session.peer))
        for address in envelope.rcpt_tos:
            self.received[address] += 1
            self.messages[address] = envelope.content
        return "250 Message accepted for delivery"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["starttls", "ssl"])
def smtp_server(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[Recorder, SmtpProvider]]:
    """A real SMTP server with auth over STARTTLS or implicit TLS, and a provider for it."""
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    recorder = Recorder()
    port = free_port()
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": authenticate,
        "auth_require_tls": True,
    }
    if request.param == "starttls":
        controller = Controller(recorder, tls_context=server_tls, require_starttls=True, **common)
    else:
        # aiosmtpd only counts STARTTLS as TLS; this whole connection is TLS from the start.
        common["auth_require_tls"] = False
        controller = Controller(recorder, ssl_context=server_tls, **common)
    controller.start()
    client_tls = ssl.create_default_context(cafile=str(cert))
    provider = SmtpProvider(
        "127.0.0.1",
        port=port,
        tls=request.param,
        username=USER,
        password=PASSWORD,
        timeout=5.0,
        ssl_context=client_tls,
    )
    yield recorder, provider
    provider.close()
    controller.stop()


def send(pulse: Pulse, provider: SmtpProvider, **options: Any) -> Any:
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    values = {
        "batch_size": 10,
        "retry": RetryPolicy(
            backoff_base=0.01, backoff_max=0.05, first_delay=0.01, max_delay=0.05
        ),
    } | options
    return run_send(
        pulse.db.sessions,
        issue,
        provider,
        pulse.identity,
        pulse.signer,
        options=SendOptions(**values),
    )


def test_smtp_delivers_each_reader_once_over_one_reused_connection(
    smtp_server: tuple[Recorder, SmtpProvider], configure: Callable[..., Pulse]
) -> None:
    recorder, provider = smtp_server
    pulse = configure()
    seed_and_build(pulse, 25)
    report = send(pulse, provider)
    assert report.finished and report.sent == 25
    assert sorted(recorder.received.values()) == [1] * 25
    assert len(recorder.connections) == 1  # three batches, one connection
    address, raw = next(iter(recorder.messages.items()))
    message = message_from_bytes(raw, policy=default)
    assert message["To"].addresses[0].addr_spec == address
    assert message["Message-ID"].startswith(f"<pulse.{WEEK}.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("html",)) is not None and message.get_body(("plain",)) is not None


def test_smtp_4xx_is_retried_later_and_5xx_fails_that_reader_only(
    smtp_server: tuple[Recorder, SmtpProvider], configure: Callable[..., Pulse]
) -> None:
    recorder, provider = smtp_server
    pulse = configure()
    seed_and_build(pulse, 12)
    with pulse.db.sessions() as session:
        emails = list(session.scalars(select(Subscriber.email).order_by(Subscriber.id)))
    greylisted, refused = emails[0], emails[1]
    recorder.refuse[greylisted] = ["451 4.7.1 Greylisted, try again later"]
    recorder.refuse[refused] = ["550 5.1.1 No such user"] * 5
    report = send(pulse, provider)
    assert report.finished
    assert report.outcome["sent"] == 11 and report.outcome["failed"] == 1
    assert recorder.received[greylisted] == 1
    assert refused not in recorder.received
    assert len(recorder.refuse[refused]) == 4  # asked once, never retried


def test_smtp_wrong_password_pauses_the_send(
    smtp_server: tuple[Recorder, SmtpProvider], configure: Callable[..., Pulse]
) -> None:
    recorder, provider = smtp_server
    provider.password = "wrong"
    with pytest.raises(PermanentProviderError, match="login refused"):
        provider._client()
    pulse = configure()
    seed_and_build(pulse, 3)
    report = send(pulse, provider)
    assert report.paused_reason is not None and "login refused" in report.paused_reason
    assert recorder.received.total() == 0


@pytest.mark.parametrize(
    "stage, reply",
    [
        ("mail", "550 5.4.5 Daily user sending limit exceeded."),  # Gmail's, from its docs
        ("data", "554 5.7.1 Message rejected: content filter"),
    ],
)
def test_mail_from_or_data_5xx_pauses_the_send_and_fails_nobody(
    smtp_server: tuple[Recorder, SmtpProvider],
    configure: Callable[..., Pulse],
    stage: str,
    reply: str,
) -> None:
    recorder, provider = smtp_server
    pulse = configure()
    seed_and_build(pulse, 12)
    # The first 3 messages go through, then the server refuses the sender or the message.
    replies = recorder.mail_replies if stage == "mail" else recorder.data_replies
    replies.extend([None, None, None, reply])
    report = send(pulse, provider)
    assert not report.finished and report.paused_reason and reply.split()[0] in report.paused_reason
    with transaction(pulse.db.sessions) as session:
        found = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
    assert DeliveryStatus.FAILED not in found
    assert found.get(DeliveryStatus.SENT, 0) == sum(recorder.received.values())


@pytest.mark.parametrize("offered", [True, False], ids=["smtputf8", "no-smtputf8"])
def test_address_needing_smtputf8_uses_it_or_fails_alone(
    configure: Callable[..., Pulse], offered: bool
) -> None:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, enable_SMTPUTF8=offered)
    controller.start()
    provider = SmtpProvider(
        "127.0.0.1", port=port, tls="none", username=None, password=None, timeout=5.0
    )
    try:
        pulse = configure()
        seed_and_build(pulse, 6)
        with transaction(pulse.db.sessions) as session:
            first, second = session.scalars(select(Subscriber).order_by(Subscriber.id)).all()[:2]
            first.email = "zoë@bücher.example"
            second.email = "leser@bücher.example"
            first_id = first.id
        report = send(pulse, provider)
    finally:
        provider.close()
        controller.stop()
    assert report.finished
    assert recorder.received["leser@xn--bcher-kva.example"] == 1  # domain in punycode
    if offered:
        assert report.outcome == {"sent": 6}
        assert recorder.received["zoë@xn--bcher-kva.example"] == 1
        return
    assert report.outcome == {"sent": 5, "failed": 1}
    with transaction(pulse.db.sessions) as session:
        error = session.scalar(
            select(Delivery.last_error).where(Delivery.subscriber_id == first_id)
        )
    assert error is not None and "SMTPUTF8" in error
