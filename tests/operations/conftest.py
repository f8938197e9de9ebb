"""The operations tests reuse the delivery tests' fixtures (settings that point at fakes)."""

from __future__ import annotations

from tests.delivery.conftest import _no_aws_profile, configure  # noqa: F401 - fixtures
