"""Debian's Chromium, driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers have no user namespaces), no GPU, no background traffic.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_executable() -> str:
    """The browser's path; skips the test without it, unless PULSE_TEST_REQUIRE_CHROMIUM."""
    if not CHROMIUM.exists():
        if os.environ.get("PULSE_TEST_REQUIRE_CHROMIUM"):
            pytest.fail("PULSE_TEST_REQUIRE_CHROMIUM is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed")
    return str(CHROMIUM)
