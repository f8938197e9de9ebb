"""Configuration: the only module that reads the environment.

Every setting is a ``PULSE_*`` variable (optionally from a ``.env`` file). Defaults make the
quick start work with no configuration. :func:`load_settings` turns a bad value into one
:class:`ConfigError` line naming the variable.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.welcome.series import Step

ProviderName = Literal["file", "smtp", "postmark", "sendgrid", "mailgun", "ses", "resend"]

PLACEHOLDER_POSTAL_ADDRESS = "Set PULSE_POSTAL_ADDRESS to your postal address"
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_SCHEDULE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):([0-5]\d)$")


class Settings(BaseSettings):
    """Typed, frozen settings. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="PULSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    database_url: str = "sqlite:///var/pulse.db"
    var_dir: Path = Path("var")
    provider: ProviderName = "file"
    outbox_dir: Path = Path("var/outbox")
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    old_secret_keys: SecretStr | None = None
    from_address: str = Field(default="AISE Pulse Brief <pulse@localhost>", alias="PULSE_FROM")
    postal_address: str = PLACEHOLDER_POSTAL_ADDRESS
    schedule: str = "tue 09:00"
    timezone: str = "America/New_York"
    send_local_time: str = ""
    send_rate: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    editor_emails: str = ""
    log_format: Literal["text", "json"] = "text"

    postmark_api_url: str = "https://api.postmarkapp.com"
    postmark_token: SecretStr | None = None
    postmark_stream: str = "broadcast"
    postmark_transactional_stream: str = "outbound"
    sendgrid_api_url: str = "https://api.sendgrid.com"
    sendgrid_api_key: SecretStr | None = None
    mailgun_api_url: str = "https://api.mailgun.net"
    mailgun_api_key: SecretStr | None = None
    mailgun_domain: str | None = None
    resend_api_url: str = "https://api.resend.com"
    resend_api_key: SecretStr | None = None
    ses_api_url: str | None = None
    ses_region: str | None = None
    ses_configuration_set: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"

    postmark_webhook_user: str | None = None
    postmark_webhook_password: SecretStr | None = None
    sendgrid_webhook_public_key: str | None = None
    mailgun_webhook_signing_key: SecretStr | None = None
    ses_topic_arns: str = ""
    resend_webhook_secret: SecretStr | None = None

    # --- issue 3: the weekly issue (sections, salary data, previews) ---
    section_limits: str = ""
    salary_min_points: int = Field(default=3, ge=1, le=1_000_000)
    salary_stale_days: int = Field(default=45, ge=1, le=3650)
    chromium_path: Path = Path("/usr/bin/chromium")
    # --- issue 19: tailored variants of the issue (0: everyone gets the default) ---
    max_variants: int = Field(default=24, ge=0, le=64)

    @field_validator("section_limits")
    @classmethod
    def _check_section_limits(cls, value: str) -> str:
        from pipeline.issues.slots import parse_section_limits

        parse_section_limits(value)  # raises ValueError naming the bad entry
        return value

    # --- issue 7: the weekly clock ---
    catch_up_grace_hours: float = Field(default=6.0, ge=0, le=7 * 24)
    reminder_hours: float = Field(default=48.0, ge=0, le=7 * 24)
    hold_deadline_hours: float = Field(default=24.0, ge=0, le=6 * 24)
    on_deadline: Literal["send", "skip"] = "send"
    recheck_minutes: int = Field(default=60, ge=1, le=24 * 60)

    # --- issue 4: subscribers (double opt-in, welcome, abuse limits) ---
    check_deliverability: bool = False
    welcome_email: bool = True
    signup_min_fill_seconds: float = Field(default=2.0, ge=0, le=600)
    signup_per_ip_per_hour: int = Field(default=20, ge=1)
    signup_per_address_per_hour: int = Field(default=5, ge=1)
    confirm_interval_minutes: int = Field(default=10, ge=0)
    confirm_max_per_day: int = Field(default=3, ge=1)

    # --- issue 18: referrals and the embeddable signup form ---
    referral_milestones: str = ""  # e.g. "3=Sticker pack,10=Annual report PDF"
    embed_origins: str = ""  # e.g. "https://partner.example,https://blog.example:8443"

    @field_validator("referral_milestones")
    @classmethod
    def _check_referral_milestones(cls, value: str) -> str:
        from subscribers.referrals import parse_milestones

        parse_milestones(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("embed_origins")
    @classmethod
    def _check_embed_origins(cls, value: str) -> str:
        from subscribers.web.embed_origins import parse_origins

        parse_origins(value)  # raises ValueError naming the bad origin
        return value

    # --- issue 6: provider events ---
    soft_bounce_limit: int = Field(default=3, ge=1, le=100)
    soft_bounce_window_days: int = Field(default=30, ge=1, le=365)
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)
    webhook_max_body_bytes: int = Field(default=5_000_000, ge=10_000, le=100_000_000)

    # --- issue 20: bounded tables (pulse db prune, and the scheduler's daily job) ---
    prune_older_than: str = ""  # e.g. 180d or 26w; empty: the scheduler never prunes

    @field_validator("prune_older_than")
    @classmethod
    def _check_prune_age(cls, value: str) -> str:
        from pipeline.analytics.retention import parse_age

        if value.strip():
            parse_age(value)  # raises ValueError with the reason
        return value.strip()

    @property
    def prune_age(self) -> timedelta | None:
        """How old a finished issue's rows must be for the daily job to prune them."""
        from pipeline.analytics.retention import parse_age

        return parse_age(self.prune_older_than) if self.prune_older_than else None

    # --- issue 8: the editors' desk ---
    test_send_addresses: str = ""
    admin_session_hours: int = Field(default=12, ge=1, le=24 * 30)
    admin_login_attempts_per_minute: int = Field(default=10, ge=1, le=10_000)

    # --- issue 5: delivery engine ---
    send_concurrency: int = Field(default=4, ge=1, le=64)
    send_hourly_cap: int | None = Field(default=None, gt=0)
    send_daily_cap: int | None = Field(default=None, gt=0)
    send_retries: int = Field(default=5, ge=0, le=50)
    send_backoff_base: float = Field(default=1.0, ge=0)
    send_backoff_max: float = Field(default=60.0, ge=0)
    send_lease_seconds: float = Field(default=300.0, ge=5)
    pause_after_failed_batches: int = Field(default=3, ge=1)
    bounce_pause_rate: float = Field(default=0.05, gt=0, le=1)
    complaint_pause_rate: float = Field(default=0.001, gt=0, le=1)
    breaker_min_sent: int = Field(default=100, ge=1)
    http_timeout: float = Field(default=30.0, gt=0)
    progress_interval: float = Field(default=10.0, gt=0)

    # --- issue 17: job board and feed intake ---
    greenhouse_api_url: str = "https://boards-api.greenhouse.io"
    lever_api_url: str = "https://api.lever.co"
    ashby_api_url: str = "https://api.ashbyhq.com"
    jobs_include: str = ""  # comma-separated title phrases; empty: the AI SE defaults
    jobs_exclude: str = ""  # comma-separated title phrases; empty: the defaults
    jobs_salary_role: str = "AI Sales Engineer"
    jobs_fetch_time: str = "06:00"
    jobs_http_timeout: float = Field(default=10.0, gt=0, le=300)
    jobs_http_attempts: int = Field(default=3, ge=1, le=10)
    jobs_http_backoff: float = Field(default=1.0, ge=0, le=60)
    jobs_check_pages: bool = True

    @field_validator("greenhouse_api_url", "lever_api_url", "ashby_api_url")
    @classmethod
    def _check_board_api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("jobs_fetch_time")
    @classmethod
    def _check_fetch_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("must be a 24-hour time such as 06:00")
        return value.strip()

    # --- issue 15: deliverability (DKIM for smtp/file, VERP bounces, pulse doctor) ---
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_file: Path | None = None
    bounce_domain: str | None = None
    dns_nameservers: str = ""

    @field_validator("dkim_selector", "dkim_domain", "bounce_domain")
    @classmethod
    def _check_dns_label(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip().lower().rstrip(".")
        if not _DNS_NAME.match(text):
            raise ValueError(f"{value!r} is not a DNS name")
        return text

    @field_validator("dns_nameservers")
    @classmethod
    def _check_nameservers(cls, value: str) -> str:
        parse_nameservers(value)  # raises ValueError naming the bad entry
        return value

    @model_validator(mode="after")
    def _check_dkim_complete(self) -> Settings:
        given = {
            "PULSE_DKIM_SELECTOR": self.dkim_selector,
            "PULSE_DKIM_DOMAIN": self.dkim_domain,
            "PULSE_DKIM_PRIVATE_KEY_FILE": self.dkim_private_key_file,
        }
        missing = [name for name, value in given.items() if value is None]
        if missing and len(missing) < len(given):
            raise ValueError(f"{missing[0]} is required when DKIM signing is configured")
        return self

    @property
    def dns_nameserver_list(self) -> list[tuple[str, int]]:
        return parse_nameservers(self.dns_nameservers)
    # --- issue 11: crashes and politeness (see pipeline/delivery/retry.py) ---
    retry_first_delay: float = Field(default=60.0, gt=0, le=86_400)
    retry_max_delay: float = Field(default=3600.0, gt=0, le=7 * 86_400)
    retry_give_up_after: float = Field(default=86_400.0, ge=0, le=30 * 86_400)
    retry_max_retries: int = Field(default=50, ge=0, le=1000)
    send_idle_wait: float = Field(default=60.0, ge=0, le=3600)
    # --- issue 20: workers across hosts ---
    host_id: str = ""  # how this process names its machine to the others; empty: the hostname

    @field_validator("host_id")
    @classmethod
    def _check_host_id(cls, value: str) -> str:
        text = value.strip()
        if text and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", text):
            raise ValueError(
                "must be up to 63 letters, digits, dots, hyphens or underscores (a host name)"
            )
        return text

    # --- issue 13: operating (templates, metrics) ---
    templates_dir: Path | None = None
    metrics_token: SecretStr | None = None

    @field_validator("templates_dir")
    @classmethod
    def _check_templates_dir(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        for required in ("email/issue.mjml", "web/base.html"):
            if not (value / required).is_file():
                raise ValueError(
                    f"{value} holds no {required}; make a full copy with "
                    "`pulse templates copy DIR` and edit that"
                )
        return value.resolve()
    # --- issue 18: the welcome series (pipeline/welcome) ---
    welcome_series: str = "welcome=0d,start-here=2d,your-role=7d"

    @field_validator("welcome_series")
    @classmethod
    def _check_welcome_series(cls, value: str) -> str:
        from pipeline.welcome.series import parse_series

        parse_series(value)  # raises ValueError naming the bad entry
        return value.strip()

    @property
    def welcome_steps(self) -> tuple[Step, ...]:
        """The series' steps, in order (none: the series is off)."""
        from pipeline.welcome.series import parse_series

        return parse_series(self.welcome_series)

    # --- issue 16: click and open analytics ---
    track_clicks: bool = True
    track_opens: bool = False

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://news.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.rstrip("/")

    @field_validator(
        "postmark_api_url", "sendgrid_api_url", "mailgun_api_url", "resend_api_url", "ses_api_url"
    )
    @classmethod
    def _check_api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("from_address")
    @classmethod
    def _check_from(cls, value: str) -> str:
        _name, address = parseaddr(value)
        if "@" not in address or any(ch in value for ch in "\r\n"):
            raise ValueError("must look like 'Display Name <sender@example.com>'")
        return value

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        normalised = value.strip().lower()
        if not _SCHEDULE.match(normalised):
            raise ValueError("must be a weekday and 24-hour time, e.g. 'tue 09:00'")
        return normalised

    @field_validator("send_local_time")
    @classmethod
    def _check_send_local_time(cls, value: str) -> str:
        normalised = value.strip()
        if normalised and not _CLOCK.fullmatch(normalised):
            raise ValueError("must be a 24-hour time such as '09:00', or empty to send at once")
        return normalised

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @model_validator(mode="after")
    def _check_production_secret(self) -> Settings:
        host = urlsplit(self.base_url).hostname or ""
        public = self.base_url.startswith("https://") and host not in ("localhost", "127.0.0.1")
        if public and self.secret_key is None:
            raise ValueError(
                "PULSE_SECRET_KEY is required when PULSE_BASE_URL is a public https URL"
            )
        if public and self.secret_key is not None:
            weakness = secret_key_weakness(self.secret_key.get_secret_value())
            if weakness:
                raise ValueError(
                    f"PULSE_SECRET_KEY {weakness}; for a public https site generate one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
        return self

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return checked_database_url(value)

    # Derived values -----------------------------------------------------------------------

    @property
    def sender(self) -> Address:
        """The From address, parsed."""
        name, address = parseaddr(self.from_address)
        username, _, domain = address.partition("@")
        return Address(display_name=name, username=username, domain=domain)

    @property
    def list_id(self) -> str:
        """RFC 2919 List-Id identifier, derived from the sender's domain."""
        domain = self.sender.domain or "localhost"
        return f"aise-pulse-brief.{domain}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def editor_email_list(self) -> list[str]:
        return [item.strip() for item in self.editor_emails.split(",") if item.strip()]

    @property
    def test_send_address_list(self) -> list[str]:
        return [item.strip() for item in self.test_send_addresses.split(",") if item.strip()]

    @property
    def ses_topic_arn_list(self) -> list[str]:
        return [item.strip() for item in self.ses_topic_arns.split(",") if item.strip()]

    def secret_keys(self) -> list[str]:
        """Signing keys, newest first: PULSE_SECRET_KEY, then PULSE_OLD_SECRET_KEYS.

        Without PULSE_SECRET_KEY a random key is generated once into the var directory,
        which is right for local use and wrong for several hosts (hence required on https).
        """
        keys: list[str] = []
        if self.secret_key is not None:
            keys.append(self.secret_key.get_secret_value())
        else:
            keys.append(_local_secret_key(self.var_dir))
        if self.old_secret_keys is not None:
            old = self.old_secret_keys.get_secret_value().split(",")
            keys.extend(key.strip() for key in old if key.strip())
        return keys


_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def parse_nameservers(value: str) -> list[tuple[str, int]]:
    """``PULSE_DNS_NAMESERVERS``: comma-separated ``host``, ``host:port`` or ``[v6]:port``."""
    servers: list[tuple[str, int]] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?|([^:\s]+)(?::(\d{1,5}))?", item)
        if match is None:
            raise ValueError(f"{item!r} is not host[:port]")
        host = match.group(1) or match.group(3)
        port = int(match.group(2) or match.group(4) or 53)
        if not 1 <= port <= 65535:
            raise ValueError(f"{item!r}: port must be 1-65535")
        servers.append((host, port))
    return servers


def _local_secret_key(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # Created readable by the owner only, atomically: no moment where others can read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # an older install's key: tighten it
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key)
    return key


def _env_name(settings_class: type[BaseSettings], field: str) -> str:
    if field.startswith("PULSE_"):  # errors on aliased fields are located by alias
        return field
    info = settings_class.model_fields.get(field)
    if info is not None and info.alias:
        return info.alias
    return f"PULSE_{field.upper()}"


# The example key shipped in deploy/pulse.env.example, and words that mark a key as a sample.
EXAMPLE_SECRET_KEYS = frozenset({"change-me-to-64-random-characters"})
_SAMPLE_WORDS = ("change-me", "changeme", "example", "secret", "password")
MIN_SECRET_KEY_LENGTH = 32


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` is unfit to sign a public site's links, or None when it is fine."""
    if key in EXAMPLE_SECRET_KEYS or any(word in key.lower() for word in _SAMPLE_WORDS):
        return "is the example key (or looks like a sample), which anyone can read"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is {len(key)} characters long; use at least {MIN_SECRET_KEY_LENGTH} random ones"
    if len(set(key)) < 10:
        return "repeats too few characters to be random"
    return None


def checked_database_url(value: str) -> str:
    """The URL, if SQLAlchemy can parse it and its database driver is installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "e.g. sqlite:///var/pulse.db or postgresql+psycopg://pulse@127.0.0.1:5432/pulse"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"{value!r} is not a database URL; {example}") from None
    try:
        url.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"unknown database {url.drivername!r}; {example}") from None
    except ImportError as err:
        raise ValueError(
            f"the driver for {url.drivername!r} is not installed ({err.name}); {example}"
        ) from None
    return value


# PULSE_* names the test suite and tools read that are not settings.
NOT_SETTINGS = frozenset({"PULSE_TEST_POSTGRES_URL", "PULSE_TEST_REQUIRE_CHROMIUM",
                          "PULSE_TEST_REQUIRE_SPAMASSASSIN",
                          "PULSE_UPDATE_GOLDEN"})  # fmt: skip


def setting_names() -> list[str]:
    """Every ``PULSE_*`` variable a setting reads."""
    return sorted(_env_name(Settings, name) for name in Settings.model_fields)


def refuse_unknown_names(names: Iterable[str], source: str = "environment") -> None:
    """A misspelled ``PULSE_*`` name is an error naming the closest valid one.

    Ignoring it would silently run on the default: ``PULSE_PROVDER=postmark`` would
    "send" into files.
    """
    valid = setting_names()
    for name in sorted(names):
        upper = name.upper()
        if not upper.startswith("PULSE_") or upper in valid or upper in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(upper, valid, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "see the README's Configuration table"
        raise ConfigError(f"{name} (in the {source}) is not a setting; {hint}")


def _dotenv_names() -> list[str]:
    path = Path(".env")
    if not path.is_file():
        return []
    from dotenv import dotenv_values

    return [name for name in dotenv_values(path) if name]


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise :class:`ConfigError` naming the variable."""
    refuse_unknown_names(os.environ)
    refuse_unknown_names(_dotenv_names(), ".env file")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except PydanticValidationError as err:
        first = err.errors()[0]
        location = first.get("loc") or ()
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if location:
            name = _env_name(Settings, str(location[0]))
            raise ConfigError(f"{name}: {message}") from None
        raise ConfigError(message) from None
