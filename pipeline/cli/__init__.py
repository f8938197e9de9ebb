"""The ``pulse`` command line."""

from __future__ import annotations

from pipeline.cli.app import app, main

__all__ = ["app", "main"]
