"""The hostile-input suite reuses the subscriber site's fixtures (a real app over the workspace)."""

from __future__ import annotations

from tests.subscribers.conftest import client, make_pulse, outbox, site

__all__ = ["client", "make_pulse", "outbox", "site"]
