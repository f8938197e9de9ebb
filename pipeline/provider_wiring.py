"""Choosing the provider named by ``PULSE_PROVIDER`` from a table; a missing credential stops
at startup.

Part of the wiring: each entry reads the settings and hands one adapter its own arguments
(token, URL, timeout, pool size), so no adapter sees ``Settings``. Adding a provider is one
function and one line in :data:`PROVIDERS`. Adapter modules are imported only when chosen
(botocore is slow to import and only SES needs it).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from pipeline.config import Settings
from pipeline.deliverability.dkim import DkimSigner
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.verp import ReturnPaths
from pipeline.errors import ConfigError
from pipeline.extras import require_extra


def _required(value: SecretStr | str | None, variable: str, provider: str) -> str:
    if value is None:
        raise ConfigError(f"{variable} is required when PULSE_PROVIDER={provider}")
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text.strip():
        raise ConfigError(f"{variable} is required when PULSE_PROVIDER={provider}")
    return text.strip()


def dkim_signer(settings: Settings) -> DkimSigner | None:
    """The DKIM signer for smtp/file when PULSE_DKIM_* are set (the key is read now)."""
    if settings.dkim_private_key_file is None:
        return None
    assert settings.dkim_selector is not None and settings.dkim_domain is not None
    return DkimSigner.from_files(
        settings.dkim_selector, settings.dkim_domain, settings.dkim_private_key_file
    )


def return_paths(settings: Settings) -> ReturnPaths | None:
    """VERP envelope senders under PULSE_BOUNCE_DOMAIN, when it is set."""
    if settings.bounce_domain is None:
        return None
    return ReturnPaths(settings.bounce_domain, settings.secret_keys())


def _file(settings: Settings) -> Provider:
    from pipeline.delivery.providers.file import FileProvider

    return FileProvider(settings.outbox_dir, dkim=dkim_signer(settings))


def _postmark(settings: Settings) -> Provider:
    from pipeline.delivery.providers.postmark import PostmarkProvider

    return PostmarkProvider(
        _required(settings.postmark_token, "PULSE_POSTMARK_TOKEN", "postmark"),
        stream=settings.postmark_stream,
        transactional_stream=settings.postmark_transactional_stream,
        api_url=settings.postmark_api_url,
        timeout=settings.http_timeout,
        pool_size=settings.send_concurrency,
    )


def _sendgrid(settings: Settings) -> Provider:
    from pipeline.delivery.providers.sendgrid import SendGridProvider

    return SendGridProvider(
        _required(settings.sendgrid_api_key, "PULSE_SENDGRID_API_KEY", "sendgrid"),
        api_url=settings.sendgrid_api_url,
        timeout=settings.http_timeout,
        pool_size=settings.send_concurrency,
    )


def _mailgun(settings: Settings) -> Provider:
    from pipeline.delivery.providers.mailgun import MailgunProvider

    key = _required(settings.mailgun_api_key, "PULSE_MAILGUN_API_KEY", "mailgun")
    return MailgunProvider(
        key,
        domain=_required(settings.mailgun_domain, "PULSE_MAILGUN_DOMAIN", "mailgun"),
        api_url=settings.mailgun_api_url,
        timeout=settings.http_timeout,
        pool_size=settings.send_concurrency,
    )


def _resend(settings: Settings) -> Provider:
    from pipeline.delivery.providers.resend import ResendProvider

    return ResendProvider(
        _required(settings.resend_api_key, "PULSE_RESEND_API_KEY", "resend"),
        api_url=settings.resend_api_url,
        timeout=settings.http_timeout,
        pool_size=settings.send_concurrency,
    )


def _ses(settings: Settings) -> Provider:
    require_extra("botocore", "ses", "PULSE_PROVIDER=ses")
    from pipeline.delivery.providers.ses import SesProvider

    return SesProvider(
        region=_required(settings.ses_region, "PULSE_SES_REGION", "ses"),
        api_url=settings.ses_api_url,
        timeout=settings.http_timeout,
        pool_size=settings.send_concurrency,
        configuration_set=settings.ses_configuration_set or None,
    )


def _smtp(settings: Settings) -> Provider:
    from pipeline.delivery.providers.smtp import SmtpProvider

    host = _required(settings.smtp_host, "PULSE_SMTP_HOST", "smtp")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    if settings.smtp_username and password is None:
        raise ConfigError("PULSE_SMTP_PASSWORD is required when PULSE_SMTP_USERNAME is set")
    return SmtpProvider(
        host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=password,
        timeout=settings.http_timeout,
        dkim=dkim_signer(settings),
        return_paths=return_paths(settings),
    )


PROVIDERS: dict[str, Callable[[Settings], Provider]] = {
    "file": _file,
    "postmark": _postmark,
    "sendgrid": _sendgrid,
    "mailgun": _mailgun,
    "resend": _resend,
    "ses": _ses,
    "smtp": _smtp,
}


def make_provider(settings: Settings) -> Provider:
    """Build the configured adapter; a missing credential is a :class:`ConfigError`."""
    factory = PROVIDERS.get(settings.provider)
    if factory is None:
        raise ConfigError(f"PULSE_PROVIDER: unknown provider {settings.provider!r}")
    return factory(settings)
