"""SMTP through smtplib: STARTTLS or implicit TLS, optional auth, one connection per thread.

Per recipient: a 2xx is sent; a 4xx refusal is retried later; a 5xx refusal fails that
recipient for good. A connection that drops mid-batch keeps what was accepted and returns the
rest to the queue.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from typing import Literal

from pipeline.deliverability.dkim import DkimSigner
from pipeline.delivery.message import Batch, Recipient, build_mime
from pipeline.delivery.providers.base import Capabilities, Provider, SendResult, SendStatus
from pipeline.delivery.verp import ReturnPaths
from pipeline.errors import PermanentProviderError, TransientProviderError

TlsMode = Literal["starttls", "ssl", "none"]


class SmtpProvider(Provider):
    """Relays each message over a reused SMTP connection."""

    name = "smtp"
    capabilities = Capabilities(max_batch=100)

    def __init__(
        self,
        host: str,
        *,
        port: int,
        tls: TlsMode,
        username: str | None,
        password: str | None,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        dkim: DkimSigner | None = None,
        return_paths: ReturnPaths | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.dkim = dkim
        self.return_paths = return_paths
        self._local = threading.local()
        self._all: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        client: smtplib.SMTP | None = None
        try:
            if self.tls == "ssl":
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self.ssl_context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.tls == "starttls":
                    client.starttls(context=self.ssl_context)
            if self.username:
                client.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as err:
            _close_quietly(client)
            raise PermanentProviderError(
                self.name, f"login refused ({err.smtp_code})", status_code=err.smtp_code
            ) from err
        except smtplib.SMTPNotSupportedError as err:
            _close_quietly(client)
            raise PermanentProviderError(self.name, f"server does not support it: {err}") from err
        except (OSError, smtplib.SMTPException) as err:
            _close_quietly(client)
            raise TransientProviderError(
                self.name, f"cannot connect to {self.host}:{self.port}: {err}"
            ) from err
        with self._lock:
            self._all.append(client)
        return client

    def _client(self) -> smtplib.SMTP:
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        if client is not None:
            try:
                if client.noop()[0] == 250:
                    return client
            except (OSError, smtplib.SMTPException):
                pass
            self._drop(client)
        client = self._connect()
        self._local.client = client
        return client

    def _drop(self, client: smtplib.SMTP) -> None:
        self._local.client = None
        with self._lock:
            if client in self._all:
                self._all.remove(client)
        with contextlib.suppress(OSError):
            client.close()

    def send_batch(self, batch: Batch) -> list[SendResult]:
        client = self._client()
        results: list[SendResult] = []
        for index, recipient in enumerate(batch.recipients):
            try:
                results.append(self._send_one(client, batch, recipient))
            except (smtplib.SMTPServerDisconnected, OSError) as err:
                self._drop(client)
                if not results:
                    raise TransientProviderError(self.name, f"connection lost: {err}") from err
                # Keep what the server accepted; the rest goes back to the queue.
                results += [
                    SendResult(r.delivery_id, SendStatus.FAILED, error=f"connection lost: {err}")
                    for r in batch.recipients[index:]
                ]
                break
        return results

    def _send_one(self, client: smtplib.SMTP, batch: Batch, recipient: Recipient) -> SendResult:
        message = build_mime(batch, recipient).as_bytes()
        if self.dkim is not None:
            message = self.dkim.sign(message)
        # The envelope sender: a VERP address names this delivery in any bounce it causes.
        envelope_from = (
            self.return_paths.address(recipient.delivery_id)
            if self.return_paths is not None
            else batch.sender.addr_spec
        )
        # As send_message would: non-ASCII addresses need the server's SMTPUTF8 (RFC 6531).
        international = not (envelope_from + recipient.email).isascii()
        options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
        try:
            client.sendmail(envelope_from, [recipient.email], message, mail_options=options)
        except smtplib.SMTPRecipientsRefused as err:
            code, reason = next(iter(err.recipients.values()))
            return _refused(recipient, code, reason)
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as err:
            return _refused(recipient, err.smtp_code, err.smtp_error)
        except smtplib.SMTPResponseException as err:
            return _refused(recipient, err.smtp_code, err.smtp_error)
        return SendResult(recipient.delivery_id, SendStatus.SENT, recipient.message_id)

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def _close_quietly(client: smtplib.SMTP | None) -> None:
    if client is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.close()


def _refused(recipient: Recipient, code: int, reason: bytes | str) -> SendResult:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    error = f"SMTP {code}: {text}"
    if 400 <= code < 500:
        return SendResult(recipient.delivery_id, SendStatus.FAILED, error=error)
    if 500 <= code < 600:
        return SendResult(recipient.delivery_id, SendStatus.REJECTED, error=error)
    return SendResult(recipient.delivery_id, SendStatus.UNKNOWN, error=error)
