"""What every command shares: the lazily built :class:`Pulse`, consoles and error handling."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from pipeline.config import load_settings
from pipeline.errors import ConfigError, PulseError
from pipeline.logs import configure_logging
from pipeline.wiring import Pulse

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

_pulse: Pulse | None = None


def pulse() -> Pulse:
    """The wiring for this invocation, built on first use (so ``--help`` needs no config)."""
    global _pulse
    if _pulse is None:
        settings = load_settings()
        configure_logging(settings.log_format)  # every command logs through one config
        _pulse = Pulse(settings)
    return _pulse


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
        except PulseError as err:
            errors.print(f"error: {err}", markup=False)
            raise typer.Exit(1) from None


def new_app(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)


MetricsPort = Annotated[
    int | None,
    typer.Option("--metrics-port", min=0, max=65535, help="serve Prometheus /metrics on this port"),
]
MetricsHost = Annotated[
    str, typer.Option("--metrics-host", help="address for --metrics-port (keep it private)")
]


def start_metrics(port: int | None, host: str) -> None:
    """Serve this process's metrics (and the database gauges) when ``--metrics-port`` is given."""
    if port is None:
        return
    from pipeline.metrics import serve_metrics

    try:
        port = serve_metrics(port, host, pulse().db.sessions)
    except OSError as err:
        raise ConfigError(f"--metrics-port: cannot listen on {host}:{port} ({err})") from None
    logging.getLogger("pipeline.metrics").info(
        "metrics on http://%s:%d/metrics", host, port, extra={"metrics_port": port}
    )
