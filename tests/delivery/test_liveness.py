"""Liveness locks: held while a sender lives, known gone the moment it dies, never guessed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import load_settings
from pipeline.db import Database, open_database
from pipeline.delivery.liveness import (
    LeaseOnly,
    display_owner,
    hold_liveness,
    parse_owner,
    process_liveness,
)
from pipeline.errors import ConfigError

HOLD_AND_WAIT = """
import sys, time
from pipeline.db import open_database
from pipeline.delivery.liveness import hold_liveness
liveness = hold_liveness(open_database(sys.argv[1]).engine)
print(liveness.owner, flush=True)
time.sleep(120)
"""


@pytest.fixture
def database(database_url: str) -> Database:
    db = open_database(database_url)
    yield db  # type: ignore[misc]
    db.dispose()


def test_a_live_owner_is_alive_and_a_released_one_is_dead_at_once(database: Database) -> None:
    with process_liveness(database.engine) as me, database.sessions() as session:
        other = hold_liveness(database.engine)
        assert me.dead_among(session, [other.owner]) == set()
        other.release()
        assert me.dead_among(session, [other.owner]) == {other.owner}
        assert me.dead_among(session, [me.owner]) == set()  # never judges itself
        assert me.healthy()


def test_a_process_killed_with_sigkill_is_known_dead_immediately(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, database_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert child.stdout is not None
        owner = child.stdout.readline().strip()
        with process_liveness(database.engine) as me, database.sessions() as session:
            assert me.dead_among(session, [owner]) == set()
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            # The kernel (flock) or the server (advisory lock) dropped it with the process;
            # PostgreSQL notices the closed socket right away, but give it a moment.
            deadline = time.monotonic() + 10
            while me.dead_among(session, [owner]) != {owner} and time.monotonic() < deadline:
                session.rollback()
                time.sleep(0.05)
            assert me.dead_among(session, [owner]) == {owner}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_owners_it_did_not_write_are_never_judged_dead(database: Database) -> None:
    with process_liveness(database.engine) as me, database.sessions() as session:
        strangers = [None, "", "host:123", "legacy-owner", "h:1:zz", "h:1:", "::"]
        assert me.dead_among(session, strangers) == set()


def test_an_owner_from_another_host_is_not_judged_by_a_local_lock_file(
    sqlite_url: str,
) -> None:
    db = open_database(sqlite_url)
    try:
        with process_liveness(db.engine) as me, db.sessions() as session:
            assert me.dead_among(session, ["elsewhere.example:42:0000abcd"]) == set()
    finally:
        db.dispose()


def test_an_in_memory_database_falls_back_to_lease_expiry() -> None:
    db = open_database("sqlite://")
    try:
        liveness = hold_liveness(db.engine)
        assert isinstance(liveness, LeaseOnly)
        with db.sessions() as session:
            assert liveness.dead_among(session, ["h:1:00000001"]) == set()
    finally:
        db.dispose()


def test_a_removed_lock_file_makes_the_holder_unhealthy(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    try:
        with process_liveness(db.engine) as me:
            assert me.healthy()
            for path in Path(f"{db.engine.url.database}-senders").iterdir():
                path.unlink()
            assert not me.healthy()
    finally:
        db.dispose()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_owner_names_from_the_database_never_crash_the_parser(owner: str) -> None:
    parsed = parse_owner(owner)
    assert parsed is None or isinstance(parsed[1], int)
    assert isinstance(display_owner(owner), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_a_host_id_is_a_plain_name_or_refused_naming_the_setting(host: str) -> None:
    # It goes into lease owners, log lines and application_name: no CR/LF, colons or
    # encoded words can get there, and whatever is accepted reads back as the same host.
    try:
        accepted = load_settings(host_id=host).host_id
    except ConfigError as err:
        assert str(err).startswith("PULSE_HOST_ID: ")
        return
    assert accepted == host.strip()
    if accepted:
        owner = LeaseOnly(accepted).owner
        assert parse_owner(owner) is not None
        assert display_owner(owner).rsplit(":", 1)[0] == accepted
        assert accepted.isascii() and accepted.isprintable() and ":" not in accepted


@pytest.mark.parametrize("host", ["a\r\nb", "=?utf-8?q?x?=", "h:1", "sender 2", "-x", "a" * 64])
def test_host_ids_that_could_forge_a_log_line_or_an_owner_are_refused(host: str) -> None:
    with pytest.raises(ConfigError, match=r"^PULSE_HOST_ID: "):
        load_settings(host_id=host)
