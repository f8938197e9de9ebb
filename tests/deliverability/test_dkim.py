"""DKIM: messages from the file and smtp providers verify with dkimpy against the public key."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dkim
import pytest
from aiosmtpd.controller import Controller

from pipeline.deliverability.dkim import DkimSigner, load_key
from pipeline.delivery.engine import SendOptions, begin_send, run_send
from pipeline.delivery.providers.smtp import SmtpProvider
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.verp import ReturnPaths
from pipeline.errors import ConfigError
from pipeline.provider_wiring import make_provider
from pipeline.wiring import Pulse
from tests.conftest import Cli, Workspace
from tests.deliverability.keys import dns_for, write_key
from tests.delivery.conftest import WEEK, seed_and_build

SELECTOR, DOMAIN = "pulse2026", "news.example.com"
RFC8058_AND_OURS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
}


def signed_headers(message: bytes) -> set[str]:
    head = message.split(b"\r\n\r\n", 1)[0].decode()
    signature = re.search(r"DKIM-Signature:(.*?)(?=\r\n\S)", head, re.S)
    assert signature is not None
    tags = re.sub(r"\s+", "", signature.group(1))
    found = re.search(r"(?:^|;)h=([^;]+)", tags)
    assert found is not None
    return {name.lower() for name in found.group(1).split(":")}


@pytest.fixture(params=["rsa", "ed25519", "ed25519-seed"])
def key_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_key(tmp_path, request.param)


def test_file_provider_messages_verify_and_sign_the_rfc8058_headers(
    workspace: Workspace, cli: Cli, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_FROM", f"AISE Pulse Brief <pulse@{DOMAIN}>")
    monkeypatch.setenv("PULSE_DKIM_SELECTOR", SELECTOR)
    monkeypatch.setenv("PULSE_DKIM_DOMAIN", DOMAIN)
    monkeypatch.setenv("PULSE_DKIM_PRIVATE_KEY_FILE", str(key_file))
    assert cli("demo", "--subscribers", "3").exit_code == 0
    messages = sorted(workspace.outbox.glob("*/*.eml"))
    assert len(messages) == 3
    lookup = dns_for(SELECTOR, DOMAIN, key_file)
    for path in messages:
        raw = path.read_bytes()
        assert dkim.verify(raw, dnsfunc=lookup)
        assert signed_headers(raw) >= RFC8058_AND_OURS
        algorithm = "ed25519-sha256" if "ed25519" in key_file.name else "rsa-sha256"
        assert f"a={algorithm}" in re.sub(r"\s+", "", raw.decode("ascii", "replace"))


@pytest.mark.parametrize(
    ("header", "forged"),
    [
        (b"List-Unsubscribe: <http", b"List-Unsubscribe: <https://evil.example/x>, <http"),
        (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"),
        (b"Subject: ", b"Subject: Re: "),
    ],
)
def test_a_changed_signed_header_fails_verification(
    workspace: Workspace,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    header: bytes,
    forged: bytes,
) -> None:
    key_file = write_key(tmp_path, "ed25519")
    monkeypatch.setenv("PULSE_DKIM_SELECTOR", SELECTOR)
    monkeypatch.setenv("PULSE_DKIM_DOMAIN", DOMAIN)
    monkeypatch.setenv("PULSE_DKIM_PRIVATE_KEY_FILE", str(key_file))
    assert cli("demo", "--subscribers", "1").exit_code == 0
    raw = next(workspace.outbox.glob("*/*.eml")).read_bytes()
    lookup = dns_for(SELECTOR, DOMAIN, key_file)
    assert dkim.verify(raw, dnsfunc=lookup)
    assert header in raw
    assert not dkim.verify(raw.replace(header, forged, 1), dnsfunc=lookup)


class Envelopes:
    """An aiosmtpd handler keeping each message with its envelope sender."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.received.append((envelope.mail_from, rcpt, envelope.original_content))
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Envelopes, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    handler = Envelopes()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_smtp_messages_verify_and_leave_with_a_verp_return_path(
    smtp_inbox: tuple[Envelopes, int], configure: Callable[..., Pulse], key_file: Path
) -> None:
    handler, port = smtp_inbox
    pulse = configure(
        PULSE_PROVIDER="smtp",
        PULSE_SMTP_HOST="127.0.0.1",
        PULSE_SMTP_PORT=str(port),
        PULSE_SMTP_TLS="none",
        PULSE_DKIM_SELECTOR=SELECTOR,
        PULSE_DKIM_DOMAIN=DOMAIN,
        PULSE_DKIM_PRIVATE_KEY_FILE=str(key_file),
        PULSE_BOUNCE_DOMAIN=f"bounce.{DOMAIN}",
    )
    seed_and_build(pulse, 4)
    provider = make_provider(pulse.settings)
    assert isinstance(provider, SmtpProvider)
    issue, _ = begin_send(pulse.db.sessions, WEEK)
    report = run_send(
        pulse.db.sessions,
        issue,
        provider,
        pulse.identity,
        pulse.signer,
        options=SendOptions(batch_size=10, retry=RetryPolicy(backoff_base=0.01, backoff_max=0.05)),
    )
    provider.close()
    assert report.finished and report.sent == 4
    lookup = dns_for(SELECTOR, DOMAIN, key_file)
    paths = ReturnPaths(f"bounce.{DOMAIN}", pulse.settings.secret_keys())
    senders = set()
    for mail_from, _rcpt, raw in handler.received:
        assert dkim.verify(raw, dnsfunc=lookup)
        assert signed_headers(raw) >= RFC8058_AND_OURS
        assert mail_from.startswith("bounces+") and mail_from.endswith(f"@bounce.{DOMAIN}")
        assert len(mail_from.split("@")[0]) <= 64
        assert paths.delivery_in(mail_from) is not None
        senders.add(mail_from)
    assert len(senders) == 4  # one return path per delivery


def test_verp_tokens_cannot_be_made_without_the_key() -> None:
    paths = ReturnPaths("bounce.example.com", ["new-key", "old-key"])
    address = paths.address(42)
    assert paths.delivery_in(f"To: <{address}>") == 42
    assert paths.delivery_in(address.upper()) == 42  # MTAs that fold case
    old = ReturnPaths("bounce.example.com", ["old-key"]).address(42)
    assert paths.delivery_in(old) == 42  # rotated keys still read
    forged = address.replace("bounces+42-", "bounces+43-")
    assert paths.delivery_in(forged) is None
    assert ReturnPaths("bounce.example.com", ["other"]).delivery_in(address) is None
    assert paths.address(0) == "bounces@bounce.example.com"


def test_bad_dkim_configuration_is_one_clear_error(tmp_path: Path) -> None:
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match=r"PULSE_DKIM_PRIVATE_KEY_FILE: .* not an unencrypted"):
        load_key(not_a_key)
    with pytest.raises(ConfigError, match="cannot read"):
        load_key(tmp_path / "missing.pem")
    short = tmp_path / "seed"
    short.write_text("c2hvcnQ=")
    with pytest.raises(ConfigError, match="32 bytes"):
        DkimSigner.from_files("s", "example.com", short)
