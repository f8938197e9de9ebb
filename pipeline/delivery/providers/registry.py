"""Choosing the provider named by ``PULSE_PROVIDER``; a missing credential stops at startup."""

from __future__ import annotations

from pydantic import SecretStr

from pipeline.config import Settings
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.providers.file import FileProvider
from pipeline.errors import ConfigError
from pipeline.extras import require_extra


def _required(value: SecretStr | str | None, variable: str, provider: str) -> str:
    if value is None:
        raise ConfigError(f"{variable} is required when PULSE_PROVIDER={provider}")
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text.strip():
        raise ConfigError(f"{variable} is required when PULSE_PROVIDER={provider}")
    return text.strip()


def make_provider(settings: Settings) -> Provider:
    """Build the configured adapter; a missing credential is a :class:`ConfigError`."""
    name = settings.provider
    pool = settings.send_concurrency
    timeout = settings.http_timeout
    if name == "file":
        return FileProvider(settings.outbox_dir)
    if name == "postmark":
        from pipeline.delivery.providers.postmark import PostmarkProvider

        token = _required(settings.postmark_token, "PULSE_POSTMARK_TOKEN", name)
        return PostmarkProvider(
            token,
            stream=settings.postmark_stream,
            api_url=settings.postmark_api_url,
            timeout=timeout,
            pool_size=pool,
        )
    if name == "sendgrid":
        from pipeline.delivery.providers.sendgrid import SendGridProvider

        key = _required(settings.sendgrid_api_key, "PULSE_SENDGRID_API_KEY", name)
        return SendGridProvider(
            key, api_url=settings.sendgrid_api_url, timeout=timeout, pool_size=pool
        )
    if name == "mailgun":
        from pipeline.delivery.providers.mailgun import MailgunProvider

        key = _required(settings.mailgun_api_key, "PULSE_MAILGUN_API_KEY", name)
        domain = _required(settings.mailgun_domain, "PULSE_MAILGUN_DOMAIN", name)
        return MailgunProvider(
            key, domain=domain, api_url=settings.mailgun_api_url, timeout=timeout, pool_size=pool
        )
    if name == "resend":
        from pipeline.delivery.providers.resend import ResendProvider

        key = _required(settings.resend_api_key, "PULSE_RESEND_API_KEY", name)
        return ResendProvider(key, api_url=settings.resend_api_url, timeout=timeout, pool_size=pool)
    if name == "ses":
        require_extra("botocore", "ses", "PULSE_PROVIDER=ses")
        from pipeline.delivery.providers.ses import SesProvider

        region = _required(settings.ses_region, "PULSE_SES_REGION", name)
        return SesProvider(
            region=region, api_url=settings.ses_api_url, timeout=timeout, pool_size=pool
        )
    if name == "smtp":
        from pipeline.delivery.providers.smtp import SmtpProvider

        host = _required(settings.smtp_host, "PULSE_SMTP_HOST", name)
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        if settings.smtp_username and password is None:
            raise ConfigError("PULSE_SMTP_PASSWORD is required when PULSE_SMTP_USERNAME is set")
        return SmtpProvider(
            host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=password,
            timeout=timeout,
        )
    raise ConfigError(f"PULSE_PROVIDER: unknown provider {name!r}")
