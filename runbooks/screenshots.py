"""`python -m runbooks.screenshots`: photograph the public site's key pages in each language for the README."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runbooks.browser import DESKTOP, BrowserUnavailable, chromium, serve
from runbooks.findings import FindingsError
from runbooks.loader import Dataset, load
from runbooks.publish import build_site
from runbooks.schema import LANGUAGES
from runbooks.site import Site

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

DEFAULT_OUT = Path("docs/assets/screenshots")


@dataclass(frozen=True)
class Shot:
    """One screenshot: the file it is saved as and the page it shows, relative to a language's root."""

    name: str
    url: str
    lang: str

    @property
    def file_name(self) -> str:
        """`home.zh.png`, `provider.en.png`…"""
        return f"{self.name}.{self.lang}.png"

    def path(self) -> str:
        """The page's path on the served site."""
        return "/" + ("" if self.lang == LANGUAGES[0] else f"{self.lang}/") + self.url


def shots(dataset: Dataset) -> list[Shot]:
    """The home page, the first provider's runbook and the FAQ, in every language."""
    first = {}
    for page in Site.of(dataset).pages:
        first.setdefault(page.kind, page)
    chosen = [("home", first["home"]), ("provider", first["provider"]), ("faq", first["faq"])]
    return [Shot(name, page.url, lang) for lang in LANGUAGES for name, page in chosen]


def take_screenshots(browser: BrowserContext, origin: str, out_dir: Path, dataset: Dataset) -> list[Path]:
    """Open each page of `shots` on the site served at `origin` at desktop size; save a PNG of the window."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    page = browser.new_page()
    try:
        page.set_viewport_size(DESKTOP)
        for shot in shots(dataset):
            page.goto(origin + shot.path(), wait_until="networkidle")
            page.evaluate("document.fonts.ready")
            target = out_dir / shot.file_name
            page.screenshot(path=str(target))
            written.append(target)
    finally:
        page.close()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Build the site from `--data`, photograph it into `--out`, and return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m runbooks.screenshots",
        description=(
            "Build the public site into a temporary directory, serve it on 127.0.0.1, and save screenshots "
            f"({DESKTOP['width']}x{DESKTOP['height']}) of the home page, the first provider's runbook and "
            "the FAQ in every language. Needs Debian's Chromium (`apt-get install chromium fonts-noto-cjk`) "
            "or $CHROMIUM. Exit codes: 0 written, 1 the build or the browser failed, 2 invalid data."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"where to write the PNGs (default: {DEFAULT_OUT})"
    )
    parser.add_argument("--data", type=Path, default=Path("data"), help="the data directory (default: data)")
    args = parser.parse_args(argv)
    try:
        dataset = load(args.data)
    except FindingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="runbooks-screenshots-") as tmp:
        site_dir = Path(tmp) / "site"
        # The public site: the README shows what anyone may see.
        failed = build_site(site_dir, args.data, audience="public")
        if failed:
            print(failed, file=sys.stderr)
            return 1
        try:
            with serve(site_dir) as origin, chromium() as browser:
                written = take_screenshots(browser, origin, args.out, dataset)
        except BrowserUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
