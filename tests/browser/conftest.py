"""Fixtures of the browser tests: the session's built sites served on 127.0.0.1, and one headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runbooks.browser import BrowserUnavailable, chromium, serve


@pytest.fixture(scope="session")
def origin(site: Path) -> Iterator[str]:
    """Where the built site is served: `http://127.0.0.1:PORT`, Chinese at `/`, English at `/en/`."""
    with serve(site) as served:
        yield served


@pytest.fixture(scope="session")
def public_origin(public_site: Path) -> Iterator[str]:
    """Where the public site is served: `http://127.0.0.1:PORT`, Chinese at `/`, English at `/en/`."""
    with serve(public_site) as served:
        yield served


@pytest.fixture(scope="session")
def browser(origin: str):
    """Debian's Chromium with a fresh profile, allowed to use the clipboard on the served site."""
    try:
        with chromium() as context:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
            yield context
    except BrowserUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def page(browser):
    """A new tab, closed after the test."""
    tab = browser.new_page()
    yield tab
    tab.close()
