"""Issue 12 items 7 and 13 against a real ``pulse serve`` on a loopback port.

Capability tokens (password-set, unsubscribe, preferences, manage, confirm, recovery links)
never reach its log; the SQLite database and ``var/secret_key`` are the owner's alone.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

from pipeline.config import load_settings
from pipeline.wiring import Pulse
from tests.conftest import Cli, Workspace

PULSE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pulse serve exited: {process.communicate()[1]}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("pulse serve did not start")


def test_pulse_serve_logs_no_capability_token_and_keeps_its_files_private(
    workspace: Workspace, cli: Cli
) -> None:
    added = cli("editors", "add", "boss@example.com", "--role", "admin")
    found = re.search(r"/admin/set-password/(\S+)", added.stdout)
    assert found is not None
    password_token = found.group(1)
    wiring = Pulse(load_settings())  # the same var/secret_key as the server's
    signer = wiring.signer
    tokens = [
        password_token,
        signer.unsubscribe_token(1),
        signer.preferences_token(1),
        signer.manage_token(1),
        signer.confirm_token(1),
        signer.recover_token(1),
    ]
    wiring.close()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **workspace.env, "PULSE_BASE_URL": base_url}
    server = subprocess.Popen(
        [*PULSE, "serve", "--port", str(port)],
        env=env,
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_up(base_url, server)
        paths = [
            f"/admin/set-password/{password_token}",
            f"/u/{tokens[1]}",
            f"/preferences/{tokens[2]}",
            f"/preferences/{tokens[3]}/data.json",
            f"/confirm/{tokens[4]}",
            f"/recover/{tokens[5]}",
        ]
        for path in paths:
            assert requests.get(base_url + path, timeout=10).status_code < 500
        # Mismatched passwords on the real link: a 400 page, not a 5xx, and still no token.
        answer = requests.post(
            f"{base_url}/admin/set-password/{password_token}",
            data={"password": "a" * 20, "confirm": "b" * 20},
            timeout=10,
        )
        assert answer.status_code == 400
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    log = out + err
    assert "GET /admin/set-password/" in log  # the access log is really there
    for token in tokens:
        assert token not in log
    private = [Path(workspace.env["PULSE_VAR_DIR"]) / "secret_key"]
    url = workspace.env["PULSE_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        private.append(Path(url.removeprefix("sqlite:///")))
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
