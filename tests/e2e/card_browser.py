"""Driving the BackOffice card in Debian's headless Chromium through Playwright, as a person would: by mouse, or by
keyboard only. Every checkpoint runs axe-core in the page (0 serious or critical violations), saves a screenshot as a
test artifact, and every request the browser makes is recorded: anything not to this machine is blocked and fails
the test, as does a Content-Security-Policy violation."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ElementHandle, Locator, Page, Request, Route, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DAYCLOSE_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "tools" / "node" / "node_modules" / "axe-core" / "axe.min.js"
#: Screenshots of every step, per walk: kept after the run (CI keeps the folder as the test's artifact).
ARTIFACTS = Path(os.environ.get("DAYCLOSE_ARTIFACTS", ROOT / "artifacts")) / "card"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium (never a downloaded one), headless, with a fresh profile (Playwright's temporary
    --user-data-dir)."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it when missing)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Walk:
    """One person's walk through the card: ``keyboard`` walks press keys only, never the mouse."""

    browser: Browser
    name: str
    keyboard: bool
    shots: list[Path] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    axe_results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(
            locale="sv-SE", timezone_id="Europe/Stockholm", viewport={"width": 1100, "height": 900}
        )
        self.context.route("**/*", self._only_local)
        self.page: Page = self.context.new_page()
        self.page.on("request", self._seen)
        self.page.on("console", self._console)
        self.folder = ARTIFACTS / self.name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.axe_source = AXE.read_text(encoding="utf-8")

    def close(self) -> None:
        self.context.close()

    # --- what the browser sends -------------------------------------------------------------------------

    def _only_local(self, route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(request.url)
            route.abort("blockedbyclient")

    def _seen(self, request: Request) -> None:
        self.requests.append(request.url)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp_violations.append(message.text)

    # --- checkpoints ------------------------------------------------------------------------------------

    def checkpoint(self, step: str) -> Path:
        """axe-core on the page as it is (0 serious or critical violations), then a screenshot of it. axe is
        evaluated through the DevTools protocol, which the page's CSP does not govern: the page itself runs no
        script."""
        self.page.wait_for_load_state("load")
        self.page.evaluate(self.axe_source)
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html)}))"
        )
        self.axe_results[step] = result
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe on {step} ({self.page.url}):\n{json.dumps(bad, indent=2, ensure_ascii=False)}"
        path = self.folder / f"{len(self.shots) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    # --- acting as a person -----------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def reload(self) -> None:
        """The browser's reload (F5 is the browser's own key, which a page's keyboard events cannot press)."""
        self.page.reload()

    def text(self) -> str:
        return self.page.inner_text("body")

    def press(self, target: Locator) -> None:
        """Click it, or Tab to it and press Enter; a link or a submit button: wait for the next page."""
        if self.keyboard:
            self._tab_to(target)
        with self.page.expect_navigation(wait_until="load") if self._navigates(target) else _nothing():
            if self.keyboard:
                self.page.keyboard.press("Enter")
            else:
                target.click()

    def button(self, name: str, exact: bool = True) -> None:
        self.press(self.page.get_by_role("button", name=name, exact=exact))

    def link(self, name: str, exact: bool = True) -> None:
        self.press(self.page.get_by_role("link", name=name, exact=exact))

    def menu(self, item: str) -> None:
        """The card's three-dot menu (a ``<details>``: Enter opens it, like a click), then one of its items."""
        summary = self.page.locator("details.menu > summary")
        if self.keyboard:
            self._tab_to(summary)
            self.page.keyboard.press("Enter")
        else:
            summary.click()
        self.press(self.page.locator("details.menu").get_by_role("link", name=item, exact=True))

    def fill(self, label: str, value: str, exact: bool = True) -> None:
        """Type into the field labelled ``label`` (an empty value clears it)."""
        field_ = self.page.get_by_label(label, exact=exact)
        if self.keyboard:
            self._tab_to(field_)
            self.page.keyboard.press("Control+A")
            self.page.keyboard.press("Backspace")
            if value:
                self.page.keyboard.type(value)
        else:
            field_.fill(value)

    def _tab_to(self, target: Locator, limit: int = 150) -> None:
        """Tab until ``target`` has the focus: fails if the keyboard cannot reach it."""
        element: ElementHandle = target.element_handle()
        for _ in range(limit):
            if element.evaluate("e => e === document.activeElement"):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{target} cannot be reached with Tab on {self.page.url}")

    @staticmethod
    def _navigates(target: Locator) -> bool:
        tag = target.evaluate("e => e.tagName.toLowerCase() + ':' + (e.getAttribute('type') || '')")
        return tag.startswith("a:") or tag.startswith("button:") and not tag.endswith(":button")

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).hostname not in LOCAL_HOSTS] + self.blocked


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)
