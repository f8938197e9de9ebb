"""Optional dependencies: a clear error naming the extra to install when one is missing."""

from __future__ import annotations

from importlib.util import find_spec

from pipeline.errors import ConfigError

DISTRIBUTION = "aise-pulse-brief"


def require_extra(module: str, extra: str, needed_for: str) -> None:
    """Raise :class:`ConfigError` unless ``module`` can be imported.

    ``needed_for`` says which setting asked for it, e.g. ``PULSE_PROVIDER=ses``.
    """
    if find_spec(module) is None:
        raise ConfigError(
            f"{needed_for} needs the [{extra}] extra, which is not installed: "
            f"pip install '{DISTRIBUTION}[{extra}]'"
        )
