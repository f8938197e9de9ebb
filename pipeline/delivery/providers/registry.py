"""Choosing the provider named by ``PULSE_PROVIDER``."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.delivery.providers.base import Provider
from pipeline.delivery.providers.file import FileProvider
from pipeline.errors import ConfigError


def make_provider(settings: Settings) -> Provider:
    """Build the configured adapter; a missing credential is a :class:`ConfigError`."""
    if settings.provider == "file":
        return FileProvider(settings.outbox_dir)
    raise ConfigError(f"PULSE_PROVIDER: the {settings.provider!r} provider is not available yet")
