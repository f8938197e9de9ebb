"""Shared fixtures: databases on SQLite and (when configured) PostgreSQL, the CLI, the wiring.

The one way to build the wiring is ``pulse`` (no overrides) or ``make_pulse(**overrides)``;
``live_server`` serves it on a real port and ``chromium`` is a launched browser (see
tests/harness for the pieces behind them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_settings
from pipeline.db import open_database
from pipeline.web.app import create_app
from pipeline.wiring import Pulse
from tests.harness.browser import LAUNCH_ARGS, chromium_executable
from tests.harness.server import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The documented default: `make test` uses the local PostgreSQL whenever it answers. Set
# PULSE_TEST_POSTGRES_URL to another server, or to an empty value to test SQLite only.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> tuple[str | None, str]:
    """The PostgreSQL URL to test against, or None with the reason it is not used."""
    configured = os.environ.get("PULSE_TEST_POSTGRES_URL")
    if configured == "":
        return None, "PULSE_TEST_POSTGRES_URL is set empty"
    url = configured or DEFAULT_POSTGRES_URL
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as err:  # any reason at all: report it, test SQLite only
        if configured:  # asked for explicitly: a dead server is an error, not a skip
            raise RuntimeError(f"PULSE_TEST_POSTGRES_URL={url} does not answer: {err}") from err
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"no PostgreSQL at {url} ({first_line})"
    return url, ""


POSTGRES_URL, POSTGRES_MISSING = _postgres_url()


def pytest_report_header() -> str:
    if POSTGRES_URL:
        return f"postgresql: {make_url(POSTGRES_URL).render_as_string(hide_password=True)}"
    return f"postgresql: NOT TESTED ({POSTGRES_MISSING})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the PostgreSQL half of the data-layer tests did not run."""
    if POSTGRES_URL:
        return
    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
    terminalreporter.write_line(
        f"{POSTGRES_MISSING}: the PostgreSQL variants were skipped ({skipped} skips in all).",
        red=True,
        bold=True,
    )
    terminalreporter.write_line(
        "Start PostgreSQL at 127.0.0.1:5432 or set PULSE_TEST_POSTGRES_URL, then run again.",
        red=True,
        bold=True,
    )


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A migrated template database; each test clones it (fast, and fully isolated)."""
    if not POSTGRES_URL:
        yield None
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pulse_tpl_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    open_database(url).dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _postgres_clone(template: str) -> tuple[str, str]:
    assert POSTGRES_URL
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pulse_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return name, make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _postgres_drop(name: str) -> None:
    assert POSTGRES_URL
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_template: str | None
) -> Iterator[str]:
    """A fresh database URL: SQLite always, PostgreSQL whenever it answers (see above)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pulse.db'}"
        return
    if postgres_template is None:
        pytest.skip(f"PostgreSQL not tested: {POSTGRES_MISSING}")
    name, url = _postgres_clone(postgres_template)
    yield url
    _postgres_drop(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pulse.db'}"


@dataclass
class Workspace:
    """A working directory with its own var/ and outbox, and the env that points there."""

    root: Path
    env: dict[str, str]

    @property
    def outbox(self) -> Path:
        return self.root / "var" / "outbox"


@pytest.fixture
def workspace(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)
    env = {
        "PULSE_DATABASE_URL": database_url,
        "PULSE_VAR_DIR": str(tmp_path / "var"),
        "PULSE_OUTBOX_DIR": str(tmp_path / "var" / "outbox"),
        "PULSE_POSTAL_ADDRESS": "AISE Pulse Brief, 100 Example Street, Springfield, IL 62701, USA",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Workspace(root=tmp_path, env=env)


@pytest.fixture
def pulse(workspace: Workspace) -> Iterator[Pulse]:
    """The wiring over the workspace's database."""
    app_ = Pulse(load_settings())
    yield app_
    app_.close()


MakePulse = Callable[..., Pulse]


@pytest.fixture
def make_pulse(workspace: Workspace) -> Iterator[MakePulse]:
    """Build a :class:`Pulse` over the workspace with settings overrides; closed after.

    Forms are sent faster than a person types, so the bot check's minimum fill time is 0
    unless a test sets ``signup_min_fill_seconds``.
    """
    built: list[Pulse] = []

    def make(**overrides: object) -> Pulse:
        overrides.setdefault("signup_min_fill_seconds", 0)
        pulse = Pulse(load_settings(**overrides))
        built.append(pulse)
        return pulse

    yield make
    for pulse in built:
        pulse.close()


@pytest.fixture
def live_server(pulse: Pulse) -> Iterator[str]:
    """The web app over ``pulse`` on an ephemeral 127.0.0.1 port; yields its base URL."""
    with serving(lambda _base_url: create_app(pulse)) as base_url:
        yield base_url


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, launched headless through Playwright; skips without it."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``pulse`` in-process."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> CliResult:
        result = self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(workspace: Workspace) -> Cli:
    return Cli()
