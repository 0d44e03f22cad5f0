"""Playwright helpers for `trainsync web`: a loopback-only chromium and the terminal's text."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a container's /dev/shm can be too small for a renderer
    # Loopback only: without these chromium reaches for the network (updates, sync, QUIC).
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# textual.js keeps its xterm.js Terminal in a closure (`this.terminal = new Terminal(...)`),
# so catch it as it is stored; from then on only xterm.js's public buffer API is read.
# A cell's underline is kept apart: the app underlines the cursor of the pane without the
# keys (app.tcss), which is how the page shows where focus is without reading colours.
SCREEN_SCRIPT = """
(() => {
  Object.defineProperty(Object.prototype, "terminal", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "terminal", {
        value, writable: true, configurable: true, enumerable: true,
      });
      if (value && typeof value.onData === "function" && "buffer" in value) {
        window.__trainsyncTerminal = value;
        delete Object.prototype.terminal;
      }
    },
  });
  window.__trainsyncRows = () => {
    const term = window.__trainsyncTerminal;
    if (!term) return null;
    const buffer = term.buffer.active;
    const rows = [];
    for (let y = 0; y < term.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      let underlined = "";
      for (let x = 0; line && x < line.length; x++) {
        const cell = line.getCell(x);
        if (cell && cell.getWidth() > 0 && cell.isUnderline()) {
          underlined += cell.getChars() || " ";
        }
      }
      rows.push({text: line ? line.translateToString(true) : "", underlined});
    }
    return rows;
  };
})();
"""


def find_chromium() -> str | None:
    """Debian's chromium where CI installs it, else one on PATH."""
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def loopback_only(context: BrowserContext, port: int) -> None:
    """Refuse every request but the server's: the page's web font would wait on the network."""
    own = (f"http://127.0.0.1:{port}/", f"ws://127.0.0.1:{port}/")

    def route(route: Any) -> None:
        if route.request.url.startswith(own):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)


def rows(page: Page) -> list[dict[str, str]]:
    """The terminal's rows as the page holds them: each row's text and its underlined part."""
    found = page.evaluate("window.__trainsyncRows ? window.__trainsyncRows() : null")
    if found is None:
        raise AssertionError(
            "the page's xterm.js terminal was not found: textual-serve's textual.js no longer"
            " stores it as `.terminal`, so SCREEN_SCRIPT needs updating"
        )
    return list(found)


def screen(page: Page) -> str:
    return "\n".join(row["text"] for row in rows(page))


def wait_for_screen(page: Page, condition: str, arg: Any, what: str, timeout: float = 30.0) -> None:
    """Wait until `condition` (JS: `(rows, arg) => bool`) holds for the terminal's rows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    expression = (
        "([arg]) => { const rows = window.__trainsyncRows && window.__trainsyncRows();"
        f" return !!rows && ({condition})(rows, arg); }}"
    )
    try:
        page.wait_for_function(expression, arg=[arg], polling=100, timeout=timeout * 1000)
    except PlaywrightTimeout:
        shown = screen(page) if page.evaluate("!!window.__trainsyncTerminal") else "(nothing)"
        raise AssertionError(f"timed out waiting for {what}; the page shows:\n{shown}") from None


def wait_for_text(page: Page, needle: str, what: str, timeout: float = 30.0) -> None:
    condition = "(rows, needle) => rows.some(row => row.text.includes(needle))"
    wait_for_screen(page, condition, needle, what, timeout)
