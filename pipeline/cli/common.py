"""What every command shares: the lazily built :class:`Pulse`, consoles and error handling."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.core import TyperGroup

from pipeline.config import load_settings
from pipeline.errors import ConfigError, ImportFileError, PulseError, ValidationError
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
        except ImportFileError as err:
            errors.print(f"error: {err}", markup=False)  # names the line and column
            raise typer.Exit(1) from None
        except ValidationError as err:
            flag = _flag_for(ctx.meta.get(_LEAF), err.field)
            errors.print(f"error: {flag or err.field}: {err.message}", markup=False)
            raise typer.Exit(1) from None
        except PulseError as err:
            errors.print(f"error: {err}", markup=False)
            raise typer.Exit(1) from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # ctx.meta is shared by every nested context: the last group to resolve names the leaf.
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[_LEAF] = command
        return name, command, rest


_LEAF = "pulse.command"
# Fields whose command-line flag has another name.
_FIELD_FLAGS = {"target_week": "week", "expires_on": "expires", "comp": "comp_low"}


def _flag_for(command: Any, field: str) -> str | None:
    """The flag (``--sample-size``) the user typed for ``field``, if it was an option."""
    if command is None:
        return None
    wanted = {field, field.replace(" ", "_"), _FIELD_FLAGS.get(field, field)}
    for param in getattr(command, "params", []):
        # Options only: an argument's field name already reads as what the user typed.
        if param.name in wanted and getattr(param, "param_type_name", "") == "option":
            return str(max(param.opts, key=len))  # typer vendors click: no isinstance
    return None


def database_problem(err: OperationalError | InterfaceError) -> str:
    """The driver's first line (no URL, so no password), e.g. "connection refused"."""
    lines = str(err.orig or err).strip().splitlines() or ["cannot use the database"]
    return f"cannot use the database: {lines[0].strip()}"


def new_app(help_text: str) -> typer.Typer:
    # Plain click help: flags read `--yes`, `--week TEXT` (rich help showed `--help <bool>`).
    return typer.Typer(
        cls=PulseGroup,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


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
    from pipeline.gauges import serve_metrics

    try:
        port = serve_metrics(port, host, pulse().db.sessions)
    except OSError as err:
        raise ConfigError(f"--metrics-port: cannot listen on {host}:{port} ({err})") from None
    logging.getLogger("pipeline.metrics").info(
        "metrics on http://%s:%d/metrics", host, port, extra={"metrics_port": port}
    )
