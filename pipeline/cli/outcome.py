"""How a send's end becomes a summary line and an exit code, the same for every command.

- **0**: finished — every recipient is done (sent, failed for good or skipped), by this run
  or, for the last batches, another worker; also a week that was already sent.
- **1**: paused — it waits for an operator (`pulse issue resume`); or an error stopped the
  command.
- **3**: unfinished but under way — stopped by SIGTERM, only retries not yet due are left, or
  other workers still hold batches; it continues by itself (`pulse worker`, the scheduler)
  or with `pulse issue resume`.

Exit 2 stays what it is everywhere: a bad setting or argument.
"""

from __future__ import annotations

import typer
from rich.console import Console

from pipeline.delivery.report import RunEnd, SendReport

EXIT_PAUSED = 1
EXIT_UNFINISHED = 3

EXIT_CODES = {
    RunEnd.FINISHED: 0,
    RunEnd.PAUSED: EXIT_PAUSED,
    RunEnd.STOPPED: EXIT_UNFINISHED,
    RunEnd.WAVES_PENDING: EXIT_UNFINISHED,
    RunEnd.RETRIES_PENDING: EXIT_UNFINISHED,
    RunEnd.UNFINISHED: EXIT_UNFINISHED,
}


def exit_code(report: SendReport) -> int:
    """The documented exit code for how ``report``'s run ended."""
    return EXIT_CODES[report.end]


def report_send_end(report: SendReport, errors: Console) -> None:
    """Say on stderr why a send is not finished, and leave with its exit code (0: return)."""
    code = exit_code(report)
    if code == 0:
        return
    errors.print(f"{report.week_key}: send {report.describe_end()}", markup=False)
    raise typer.Exit(code)
