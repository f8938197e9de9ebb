"""``pulse doctor``: the sending domain's DNS and the unsubscribe endpoint, checked."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import console
from pipeline.config import load_settings
from pipeline.deliverability.doctor import Level, make_resolver, post_one_click, run_checks
from pipeline.wiring import domain_setup

_STYLE = {Level.PASS: "green", Level.WARN: "yellow", Level.FAIL: "bold red"}


def doctor() -> None:
    """Check SPF, DKIM, DMARC, the bounce domain, one-click unsubscribe and the postal address.

    Exits 1 when any check fails. PULSE_DNS_NAMESERVERS (host[:port],...) picks the resolvers.
    """
    settings = load_settings()
    resolver = make_resolver(settings.dns_nameserver_list)
    checks = run_checks(domain_setup(settings), resolver, post_one_click)
    table = Table(title=f"pulse doctor: {settings.sender.domain} via {settings.provider}")
    for column in ("check", "result", "found", "fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        # Text, not markup: DNS records and URLs may hold square brackets.
        table.add_row(
            Text(check.name),
            Text(check.level.value, style=_STYLE[check.level]),
            Text(check.detail),
            Text(check.fix),
        )
    console.print(table)
    failed = [check.name for check in checks if check.level is Level.FAIL]
    if failed:
        console.print(f"{len(failed)} check(s) failed: {', '.join(failed)}", markup=False)
        raise typer.Exit(1)
