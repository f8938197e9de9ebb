"""``pulse doctor`` against a DNS server on loopback serving good and broken records."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipeline.config import load_settings
from pipeline.deliverability.dkim import load_key
from pipeline.deliverability.doctor import Check, Level, make_resolver, post_one_click, run_checks
from pipeline.wiring import domain_setup
from tests.conftest import Cli, Workspace
from tests.deliverability.dns_server import dns_server
from tests.deliverability.keys import write_key

DOMAIN = "news.example.com"

GOOD_SENDGRID = f"""
{DOMAIN}. 300 IN TXT "v=spf1 include:sendgrid.net ~all"
{DOMAIN}. 300 IN TXT "google-site-verification=abc"
s1._domainkey.{DOMAIN}. 300 IN TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
_dmarc.{DOMAIN}. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"
"""

BROKEN_SENDGRID = f"""
{DOMAIN}. 300 IN TXT "v=spf1 include:spf.protection.outlook.com ~all"
{DOMAIN}. 300 IN TXT "v=spf1 include:sendgrid.net ~all"
s2._domainkey.{DOMAIN}. 300 IN TXT "v=DKIM1; k=rsa; p="
"""


class OneClick(BaseHTTPRequestHandler):
    """Answers a one-click POST to a made-up token as `pulse serve`'s /u/ does: 400."""

    answer = 400

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.answer if self.path.startswith("/u/") else 404)
        if 300 <= self.answer < 400:
            self.send_header("Location", "https://elsewhere.example/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
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
    folder = tmp_path_factory.mktemp("doctor-tls")
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


@pytest.fixture
def https_app(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[type[OneClick]]:
    """An https endpoint on loopback, trusted through requests' own REQUESTS_CA_BUNDLE."""
    cert, key = certificate
    handler = type("Handler", (OneClick,), {"answer": 400})
    server = HTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setenv("PULSE_BASE_URL", f"https://127.0.0.1:{server.server_address[1]}")
    yield handler
    server.shutdown()
    server.server_close()


def configure(monkeypatch: pytest.MonkeyPatch, nameserver: str, **env: str) -> None:
    monkeypatch.setenv("PULSE_FROM", f"AISE Pulse Brief <pulse@{DOMAIN}>")
    monkeypatch.setenv("PULSE_DNS_NAMESERVERS", nameserver)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def checks() -> dict[str, Check]:
    settings = load_settings()
    resolver = make_resolver(settings.dns_nameserver_list)
    found = run_checks(domain_setup(settings), resolver, post_one_click)
    return {check.name: check for check in found}


def results() -> dict[str, Level]:
    return {name: check.level for name, check in checks().items()}


def test_good_records_pass_every_check(
    workspace: Workspace, cli: Cli, https_app: type[OneClick], monkeypatch: pytest.MonkeyPatch
) -> None:
    with dns_server(GOOD_SENDGRID) as nameserver:
        configure(monkeypatch, nameserver, PULSE_PROVIDER="sendgrid")
        assert set(results().values()) == {Level.PASS}
        result = cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "pass" in result.stdout and "fail" not in result.stdout


def test_each_broken_record_is_named_with_its_fix(
    workspace: Workspace, cli: Cli, https_app: type[OneClick], monkeypatch: pytest.MonkeyPatch
) -> None:
    https_app.answer = 301
    with dns_server(BROKEN_SENDGRID) as nameserver:
        configure(monkeypatch, nameserver, PULSE_PROVIDER="sendgrid", PULSE_POSTAL_ADDRESS="")
        details = checks()
        found = {name: check.level for name, check in details.items()}
        result = cli("doctor")
    assert found == {
        "sending domain": Level.PASS,
        "SPF": Level.FAIL,  # two records: a permanent error
        "DKIM": Level.FAIL,  # s1 missing, s2 revoked
        "DMARC": Level.FAIL,
        "bounce domain MX": Level.PASS,  # SendGrid's return path takes the bounces
        "one-click unsubscribe": Level.FAIL,  # redirects
        "postal address": Level.FAIL,
    }
    assert result.exit_code == 1
    assert "2 SPF records" in details["SPF"].detail and "merge them" in details["SPF"].fix
    assert details["DMARC"].fix.startswith(f'TXT _dmarc.{DOMAIN} "v=DMARC1; p=quarantine')
    assert "redirects (301)" in details["one-click unsubscribe"].detail
    assert "5 check(s) failed: SPF, DKIM, DMARC, one-click unsubscribe, postal address" in (
        " ".join(result.stdout.split())
    )


def test_smtp_with_our_dkim_key_and_a_verp_bounce_domain(
    workspace: Workspace,
    https_app: type[OneClick],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    key_file = write_key(tmp_path, "ed25519")
    record = load_key(key_file).public_record
    zone = f"""
{DOMAIN}. 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
bounce.{DOMAIN}. 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
bounce.{DOMAIN}. 300 IN MX 10 mx.{DOMAIN}.
pulse._domainkey.{DOMAIN}. 300 IN TXT "{record}"
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"
"""
    smtp = {
        "PULSE_PROVIDER": "smtp",
        "PULSE_SMTP_HOST": "127.0.0.1",
        "PULSE_DKIM_SELECTOR": "pulse",
        "PULSE_DKIM_DOMAIN": DOMAIN,
        "PULSE_DKIM_PRIVATE_KEY_FILE": str(key_file),
        "PULSE_BOUNCE_DOMAIN": f"bounce.{DOMAIN}",
    }
    with dns_server(zone) as nameserver:
        configure(monkeypatch, nameserver, **smtp)
        found = results()
        assert found["DKIM"] is Level.PASS  # the published key is ours
        assert found["bounce domain MX"] is Level.PASS
        assert found["SPF"] is Level.WARN  # we cannot know the relay's hosts
        assert found["DMARC"] is Level.WARN  # the parent's p=none: monitoring only
        other_key = write_key(tmp_path / "..", "ed25519")
        monkeypatch.setenv("PULSE_DKIM_PRIVATE_KEY_FILE", str(other_key))
        assert results()["DKIM"] is Level.FAIL  # a key that is not the published one
        monkeypatch.setenv("PULSE_DKIM_DOMAIN", "mailer.example.org")
        assert results()["DMARC"] is Level.FAIL  # d= not aligned with From
        monkeypatch.setenv("PULSE_BOUNCE_DOMAIN", f"nomx.{DOMAIN}")
        assert results()["bounce domain MX"] is Level.FAIL


def test_an_unreachable_dns_server_is_a_failure_not_a_crash(
    workspace: Workspace, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        port = silent.getsockname()[1]
        configure(monkeypatch, f"127.0.0.1:{port}", PULSE_PROVIDER="sendgrid")
        result = cli("doctor")
    assert result.exit_code == 1
    assert "lookup" in result.stdout and "failed" in result.stdout


def test_a_bad_nameserver_setting_is_one_line(
    workspace: Workspace, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_DNS_NAMESERVERS", "127.0.0.1:99999")
    result = cli("doctor")
    assert result.exit_code == 2
    assert "PULSE_DNS_NAMESERVERS" in result.stderr
