"""PNG screenshots of an issue in headless Chromium (Playwright), and the sideways-scroll check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import IssueError

WIDTHS = (600, 375)
NARROWEST = min(WIDTHS)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(frozen=True)
class Screenshot:
    """One capture: the file, the viewport width and how wide the page really was."""

    path: Path
    width: int
    scroll_width: int
    dark: bool = False

    @property
    def scrolls_sideways(self) -> bool:
        return self.scroll_width > self.width


def chromium_available(chromium: Path) -> bool:
    if not chromium.is_file():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def take_screenshots(html: str, out: Path, *, chromium: Path) -> list[Screenshot]:
    """Capture ``html`` at 600 and 375 px (light) and 375 px (dark) into ``out``."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as err:
        raise IssueError(
            "screenshots need the [preview] extra: pip install 'aise-pulse-brief[preview]'"
        ) from err
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Screenshot] = []
    plan = [(width, False) for width in WIDTHS] + [(NARROWEST, True)]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
            try:
                for width, dark in plan:
                    page = browser.new_page(
                        viewport={"width": width, "height": 900},
                        color_scheme="dark" if dark else "light",
                    )
                    # set_content: no file or network access needed, and none is made.
                    page.set_content(html, wait_until="load")
                    scroll_width = int(page.evaluate("document.documentElement.scrollWidth"))
                    path = out / f"issue-{width}{'-dark' if dark else ''}.png"
                    page.screenshot(path=str(path), full_page=True)
                    page.close()
                    shots.append(Screenshot(path, width, scroll_width, dark))
            finally:
                browser.close()
    except Error as err:
        raise IssueError(f"Chromium could not take screenshots: {err.message}") from err
    return shots
