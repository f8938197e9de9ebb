"""Fixtures shared with the delivery tests: a Pulse built from extra PULSE_* settings."""

from tests.delivery.conftest import configure

__all__ = ["configure"]
