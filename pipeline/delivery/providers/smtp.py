"""SMTP through smtplib: STARTTLS or implicit TLS, optional auth, one connection per thread.

Only RCPT refusals are per recipient: a 4xx is retried later, a 5xx fails that recipient for
good. A refusal of MAIL FROM or DATA is about the sender, the account or the content (Gmail's
``550 5.4.5 Daily user sending limit exceeded``, a ``554 5.7.1`` content filter): it stops
the send (5xx) or retries the batch later (4xx), keeping what the server already accepted.
A connection that drops mid-batch keeps what was accepted and returns the rest to the queue.

Domains go out in punycode. A non-ASCII local part needs SMTPUTF8 (RFC 6531): used when the
server offers it; otherwise that one recipient fails with a clear reason.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from dataclasses import replace
from typing import Literal

from pipeline.deliverability.dkim import DkimSigner
from pipeline.delivery.message import MIME_POLICY, Batch, Recipient, build_mime
from pipeline.delivery.providers.addresses import ascii_email, needs_smtputf8
from pipeline.delivery.providers.base import (
    Capabilities,
    PreparedBatch,
    Provider,
    SendResult,
    SendStatus,
)
from pipeline.delivery.providers.errors import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from pipeline.delivery.verp import ReturnPaths

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

    def deliver(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        client = self._client()
        results: list[SendResult] = []
        for index, recipient in enumerate(batch.recipients):
            try:
                results.append(self._send_one(client, batch, recipient))
            except ProviderError as err:
                err.with_partial(results)
                raise
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
        recipient = replace(recipient, email=ascii_email(recipient.email))
        options: list[str] = []
        international = needs_smtputf8(recipient.email)
        if international:
            # smtplib would put the raw UTF-8 in RCPT TO without asking: check ourselves.
            client.ehlo_or_helo_if_needed()  # the server's extensions are known after EHLO
            if not client.has_extn("smtputf8"):
                return SendResult(
                    recipient.delivery_id,
                    SendStatus.INVALID,
                    error=f"the address needs SMTPUTF8, which {self.host} does not offer",
                )
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        mime = build_mime(batch, recipient)
        # Serialised once, so the DKIM signature covers exactly the bytes that are sent.
        message = mime.as_bytes(policy=MIME_POLICY.clone(utf8=True) if international else None)
        if self.dkim is not None:
            message = self.dkim.sign(message)
        # The envelope sender: a VERP address names this delivery in any bounce it causes.
        envelope_from = (
            self.return_paths.address(recipient.delivery_id)
            if self.return_paths is not None
            else ascii_email(batch.sender.addr_spec)
        )
        try:
            client.sendmail(envelope_from, [recipient.email], message, mail_options=options)
        except smtplib.SMTPRecipientsRefused as err:
            code, reason = next(iter(err.recipients.values()))
            return _refused(recipient, code, reason)
        except smtplib.SMTPNotSupportedError as err:
            # smtplib refuses a non-ASCII address itself when SMTPUTF8 is not offered.
            return SendResult(
                recipient.delivery_id,
                SendStatus.INVALID,
                error=f"the address needs SMTPUTF8, which {self.host} does not offer ({err})",
            )
        except smtplib.SMTPResponseException as err:
            # MAIL FROM, DATA or anything after RCPT: about the sender or content, not him.
            raise _stopped(err) from err
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


def _stopped(err: smtplib.SMTPResponseException) -> ProviderError:
    """The error for a refusal of MAIL FROM or DATA: 5xx stops the send, 4xx waits."""
    reason = err.smtp_error
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    stage = "MAIL FROM" if isinstance(err, smtplib.SMTPSenderRefused) else "the message"
    message = f"{stage} refused: SMTP {err.smtp_code} {text}"
    if 400 <= err.smtp_code < 500:
        return TransientProviderError("smtp", message, status_code=err.smtp_code)
    return PermanentProviderError("smtp", message, status_code=err.smtp_code)


def _refused(recipient: Recipient, code: int, reason: bytes | str) -> SendResult:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    error = f"SMTP {code}: {text}"
    if 400 <= code < 500:
        return SendResult(recipient.delivery_id, SendStatus.FAILED, error=error)
    if 500 <= code < 600:
        return SendResult(recipient.delivery_id, SendStatus.REJECTED, error=error)
    return SendResult(recipient.delivery_id, SendStatus.UNKNOWN, error=error)
