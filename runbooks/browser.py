"""Serve a built site on 127.0.0.1 and open it in Debian's Chromium through Playwright (browser tests, screenshots)."""

from __future__ import annotations

import functools
import http.server
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing; the message says how to install it."""


def chromium_executable() -> Path:
    """Debian's Chromium (`apt-get install chromium`), or the binary named by $CHROMIUM."""
    path = Path(os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BrowserUnavailable(
            f"no Chromium at {path}: install it with `apt-get install chromium fonts-noto-cjk` "
            "(`make chromium` does it as root), or set CHROMIUM to a Chromium binary"
        )
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test and command output free of access logs."""


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing when the browser drops a connection (it leaves a page while a file is still being sent)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve `site_dir` at the root of a free port on 127.0.0.1; yield its origin (`http://127.0.0.1:PORT`)."""
    if not (site_dir / "index.html").is_file():
        raise FileNotFoundError(f"{site_dir} holds no built site (no index.html)")
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def chromium(viewport: dict[str, int] | None = None) -> Iterator[BrowserContext]:
    """A headless Chromium with a fresh profile that is deleted afterwards, as a Playwright browser context."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailable(
            "Playwright is not installed: run `make test` or install requirements-dev.txt into .venv"
        ) from None
    executable = chromium_executable()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=viewport or DESKTOP,
        )
        try:
            yield context
        finally:
            context.close()
