"""``/assets/timezone.js`` run in Node with a stub page: what it selects, and when not."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from pipeline.resources import templates_dir

NODE = shutil.which("node")
HARNESS = """
const vm = require("vm");
const [source, zone, chosen, throws] = JSON.parse(process.argv[1]);
const options = [{ value: "" }, { value: "Asia/Tokyo" }, { value: "Europe/London" }];
const select = {
  options, value: "",
  getAttribute: (name) => (name === "data-chosen" ? chosen : null),
  appendChild: (option) => options.push(option),
};
const document = {
  getElementById: (id) => (id === "timezone" ? select : null),
  createElement: () => ({}),
};
const Intl = {
  DateTimeFormat: () => {
    if (throws) { throw new Error("no Intl"); }
    return { resolvedOptions: () => ({ timeZone: zone }) };
  },
};
vm.runInNewContext(source, { document, Intl });
console.log(JSON.stringify({ value: select.value, added: options.slice(3) }));
"""


def run(zone: str, *, chosen: str = "no", throws: bool = False) -> dict[str, object]:
    if NODE is None:
        pytest.skip("node is not installed")
    source = (templates_dir() / "web" / "timezone.js").read_text(encoding="utf-8")
    args = json.dumps([source, zone, chosen, throws])
    done = subprocess.run(
        [NODE, "-e", HARNESS, args], capture_output=True, text=True, check=True, timeout=30
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_browsers_zone_is_selected() -> None:
    assert run("Asia/Tokyo") == {"value": "Asia/Tokyo", "added": []}


def test_an_alias_the_list_leaves_out_is_offered_as_the_browser_spells_it() -> None:
    assert run("Asia/Calcutta") == {
        "value": "Asia/Calcutta",
        "added": [{"value": "Asia/Calcutta", "textContent": "Asia/Calcutta"}],
    }


def test_a_readers_own_choice_is_left_alone() -> None:
    assert run("Asia/Tokyo", chosen="yes") == {"value": "", "added": []}


@pytest.mark.parametrize("zone", ["", "<img src=x>", "Europe/London\nX", "x" * 65])
def test_an_odd_zone_changes_nothing(zone: str) -> None:
    assert run(zone) == {"value": "", "added": []}


def test_a_browser_without_intl_changes_nothing() -> None:
    assert run("Asia/Tokyo", throws=True) == {"value": "", "added": []}
