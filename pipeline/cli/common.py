"""What every command shares: the lazily built :class:`Pulse`, consoles and error handling."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.core import TyperGroup

from pipeline.config import load_settings
from pipeline.errors import ConfigError, PulseError
from pipeline.wiring import Pulse

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

_pulse: Pulse | None = None


def pulse() -> Pulse:
    """The wiring for this invocation, built on first use (so ``--help`` needs no config)."""
    global _pulse
    if _pulse is None:
        _pulse = Pulse(load_settings())
    return _pulse


def require_provider(app_: Pulse) -> None:
    """Stop a long-running command at startup when the provider's credentials are missing.

    Otherwise ``pulse serve`` or ``pulse scheduler`` would run for days and fail only at
    the first send. Raises :class:`ConfigError` naming the variable (exit 2).
    """
    app_.provider().close()


def reset() -> None:
    """Forget the wiring (each invocation, and each test, starts afresh)."""
    global _pulse
    if _pulse is not None:
        _pulse.close()
    _pulse = None


class PulseGroup(TyperGroup):
    """Turns the project's errors into one line on stderr and an exit code, never a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context is private
        try:
            return super().invoke(ctx)
        except ConfigError as err:
            errors.print(f"error: {err}", markup=False)
            raise typer.Exit(2) from None
        except (OperationalError, InterfaceError) as err:
            # An unreachable or refused database is configuration too: one line, exit 2.
            errors.print(f"error: PULSE_DATABASE_URL: {database_problem(err)}", markup=False)
            raise typer.Exit(2) from None
        except PulseError as err:
            errors.print(f"error: {err}", markup=False)
            raise typer.Exit(1) from None


def database_problem(err: OperationalError | InterfaceError) -> str:
    """The driver's first line (no URL, so no password), e.g. "connection refused"."""
    lines = str(err.orig or err).strip().splitlines() or ["cannot use the database"]
    return f"cannot use the database: {lines[0].strip()}"


def new_app(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)
