"""The walking skeleton end to end: demo → .eml files a mail client would accept."""

from __future__ import annotations

import email
from email.message import Message
from email.policy import default
from pathlib import Path

from tests.conftest import Cli, Workspace

GMAIL_CLIP_BYTES = 102 * 1024


def read_outbox(folder: Path) -> list[Message]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=default)
        for path in sorted(folder.glob("*.eml"))
    ]


def issue_folder(workspace: Workspace) -> Path:
    folders = [p for p in workspace.outbox.iterdir() if p.is_dir()]
    assert len(folders) == 1
    return folders[0]


def test_demo_sends_one_compliant_message_per_subscriber(cli: Cli, workspace: Workspace) -> None:
    result = cli("demo", "--subscribers", "40")
    assert result.exit_code == 0, result.stderr
    assert "sent" in result.stdout

    messages = read_outbox(issue_folder(workspace))
    assert len(messages) == 40
    recipients = [m["To"].addresses[0].addr_spec for m in messages]
    assert len(set(recipients)) == 40
    message_ids = {m["Message-ID"] for m in messages}
    assert len(message_ids) == 40
    for message in messages:
        assert message["From"].addresses[0].display_name == "AISE Pulse Brief"
        assert message["Subject"]
        assert message["Date"]
        assert message["List-Id"] == "AISE Pulse Brief <aise-pulse-brief.localhost>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = str(message["List-Unsubscribe"])
        assert unsubscribe.startswith("<http://127.0.0.1:8000/u/")
        assert "<mailto:pulse@localhost?subject=unsubscribe" in unsubscribe
        assert message.get_content_type() == "multipart/alternative"
        text_part = message.get_body(("plain",))
        html_part = message.get_body(("html",))
        assert text_part is not None and html_part is not None
        html = html_part.get_content()
        text = text_part.get_content()
        assert len(html.encode()) < GMAIL_CLIP_BYTES
        assert "Total compensation by level" in html
        assert "AI SE total comp" in html and "MLE total comp" in html
        assert "100 Example Street" in html and "100 Example Street" in text
        token_url = unsubscribe.split(">")[0].lstrip("<")
        assert token_url in html and token_url in text
        assert "%%pulse:" not in html and "%%pulse:" not in text


def test_demo_twice_sends_nobody_twice(cli: Cli, workspace: Workspace) -> None:
    assert cli("demo", "--subscribers", "25").exit_code == 0
    folder = issue_folder(workspace)
    first = {p.name: p.read_bytes() for p in folder.glob("*.eml")}
    again = cli("demo", "--subscribers", "25")
    assert again.exit_code == 0
    assert {p.name: p.read_bytes() for p in folder.glob("*.eml")} == first
    assert "│ sent       │ 0" in again.stdout


def test_demo_no_send_builds_without_mailing(cli: Cli, workspace: Workspace) -> None:
    result = cli("demo", "--subscribers", "5", "--no-send")
    assert result.exit_code == 0, result.stderr
    assert not workspace.outbox.exists() or not any(workspace.outbox.rglob("*.eml"))
    assert any((workspace.root / "var" / "preview").rglob("issue.html"))
