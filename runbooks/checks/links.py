"""Gate: every internal link and anchor of a built site resolves; external links optionally, by LinkChecker."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from runbooks.findings import Finding, Unreadable, display_path
from runbooks.memory import Derived, digest, gate_key

LINK_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src", "iframe": "src"}
UNSAFE_SCHEMES = ("javascript:", "data:text/html", "vbscript:")


@dataclass
class _Page:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, int]] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collects the ids a page defines and the links it makes, with their lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = _Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.page.ids.add(values[name] or "")
        wanted = LINK_ATTRIBUTES.get(tag)
        if wanted and values.get(wanted) is not None:
            self.page.links.append((values[wanted] or "", self.getpos()[0]))


def check_links(
    site_dir: Path,
    *,
    site_url: str = "/",
    external: bool = False,
    display_root: Path | None = None,
    memory: Derived | None = None,
) -> list[Finding]:
    """Check every link of every HTML page under `site_dir`; anchors must exist on their target page.

    Links are resolved as a browser would, with the site served at `site_url` (its path is the
    site's root; absolute URLs under it count as internal). Each page is parsed once and each
    distinct link checked once. With `external`, other http(s) URLs are checked by LinkChecker,
    which needs network access. `memory` is what the gate remembers of pages parsed before
    (`links_memory()`, read here if not given).
    """
    if not site_dir.is_dir():
        raise Unreadable([Finding("unreadable", "not a directory (build the site first)", str(site_dir))])
    root = urlsplit(site_url)
    base_path = root.path if root.path.endswith("/") else root.path + "/"
    pages = {_url_of(path, site_dir, base_path): path for path in sorted(site_dir.rglob("*.html"))}
    parsed = dict(zip(pages, _parse_all(list(pages.values()), memory), strict=True))
    resolved: dict[tuple[str, str], tuple[str, str] | None] = {}
    shown = display_root or site_dir.parent

    findings: list[Finding] = []
    outside: dict[str, tuple[str, int]] = {}
    for url, page in parsed.items():
        file = display_path(pages[url], shown)
        for href, line in page.links:
            target = href.strip()
            if target.lower().startswith(UNSAFE_SCHEMES):
                findings.append(Finding("unsafe_link", f"link with a script scheme: {target[:40]}", file, line))
                continue
            reference = _relative_reference(target)
            if reference is not None:  # most links: a path on this site, resolved as urljoin does, only quicker
                path, fragment = _join_path(url, reference[0]), reference[1]
            else:
                absolute = urljoin(root._replace(path=url).geturl() if root.netloc else url, target)
                parts = urlsplit(absolute)
                if parts.scheme in ("mailto", "tel"):
                    continue
                if parts.netloc and parts.netloc != root.netloc:
                    if parts.scheme in ("http", "https"):
                        outside.setdefault(absolute.split("#", 1)[0], (file, line))
                    continue
                path, fragment = parts.path, parts.fragment
            if not path.startswith(base_path):
                message = f"{target} points outside the site root {base_path}"
                findings.append(Finding("broken_link", message, file, line, context={"url": target}))
                continue
            target_key = (path, unquote(fragment))
            if target_key not in resolved:  # each distinct target once: the navigation repeats on every page
                resolved[target_key] = _resolve(*target_key, site_dir, base_path, parsed)
            finding = resolved[target_key]
            if finding:
                findings.append(Finding(finding[0], f"{target}: {finding[1]}", file, line, context={"url": target}))
    if external and outside:
        findings += _check_external(outside)
    return findings


_LEFT_TO_URLJOIN = re.compile(r"[\x00-\x1f;]")
"""What urlsplit drops (control characters) and what urljoin reads as parameters (`;`): such links take its path."""


def _relative_reference(target: str) -> tuple[str, str] | None:
    """A link with neither scheme nor host, as (path, fragment) without its query; None for any other link."""
    if target.startswith("//") or _LEFT_TO_URLJOIN.search(target):
        return None
    head = target.split("#", 1)[0].split("?", 1)[0]
    if ":" in head.split("/", 1)[0]:  # a scheme, or a first segment with a colon, which urljoin reads as one
        return None
    rest, _, fragment = target.partition("#")
    return rest.split("?", 1)[0], fragment


def _join_path(base: str, path: str) -> str:
    """The path `urljoin` gives for `path` (no scheme, host or query) on the page at `base`, served from a host.

    The same steps as `urllib.parse.urljoin` (RFC 3986's merge and removal of dot segments), without
    parsing either URL again: a site has tens of thousands of links.
    """
    if not path:
        return base
    base_parts = base.split("/")
    if base_parts[-1] != "":
        del base_parts[-1]  # the base's last segment is a file, not a directory
    if path.startswith("/"):
        segments = path.split("/")
    else:
        segments = base_parts + path.split("/")
        segments[1:-1] = filter(None, segments[1:-1])
    resolved: list[str] = []
    for segment in segments:
        if segment == "..":
            if resolved:
                resolved.pop()
        elif segment != ".":
            resolved.append(segment)
    if segments[-1] in (".", ".."):
        resolved.append("")
    joined = "/".join(resolved)
    return joined if joined.startswith("/") else "/" + joined  # as on a host: `..` stops at its root


def _resolve(
    path: str, fragment: str, site_dir: Path, base_path: str, parsed: dict[str, _Page]
) -> tuple[str, str] | None:
    relative = unquote(path[len(base_path) :])
    candidate = site_dir / relative
    if path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
        page_url = path if path.endswith("/") else path + "/"
    else:
        page_url = path
    if not candidate.is_file():
        return "broken_link", "no such page or file in the built site"
    if fragment and page_url in parsed and fragment not in parsed[page_url].ids:
        return "broken_anchor", f"the page has no anchor '{fragment}'"
    return None


def _check_external(urls: dict[str, tuple[str, int]]) -> list[Finding]:
    """Ask LinkChecker about each distinct external URL once (no recursion)."""
    linkchecker = Path(sys.executable).with_name("linkchecker")
    command = [str(linkchecker), "--no-status", "--check-extern", "--recursion-level=0", "-o", "csv", *urls]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    rows = csv.DictReader(
        io.StringIO("\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))),
        delimiter=";",
    )
    findings = []
    for row in rows:
        if row.get("valid") == "False":
            url = row.get("urlname", "")
            file, line = urls.get(url, ("", 0))
            message = f"{url}: {row.get('result') or 'unreachable'}"
            findings.append(Finding("broken_external_link", message, file, line, context={"url": url}))
    return findings


PARALLEL_MIN_PAGES = 200
"""From this many pages, the pages are parsed in parallel processes, one per core (parsing dominates the gate)."""


def links_memory() -> Derived:
    """What the gate remembers of the pages it parsed, read now: a build reads it while MkDocs still runs."""
    return Derived("check-links", gate_key(Path(__file__)))


def _parse_all(paths: list[Path], memory: Derived | None = None) -> list[_Page]:
    """Every page's ids and links; a page parsed before, with the same content, is taken from the gate's memory."""
    memory = memory if memory is not None else links_memory()
    contents = [path.read_bytes() for path in paths]
    digests = [digest(data) for data in contents]
    todo = [n for n, d in enumerate(digests) if d not in memory]
    workers = min(os.cpu_count() or 1, 4)
    texts = [contents[n].decode("utf-8", errors="replace") for n in todo]
    if len(todo) < PARALLEL_MIN_PAGES or workers < 2:
        fresh = [_parse(text) for text in texts]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            fresh = list(pool.map(_parse, texts, chunksize=32))
    for n, page in zip(todo, fresh, strict=True):
        memory[digests[n]] = [sorted(page.ids), page.links]
    memory.save()
    return [_Page(set(memory[d][0]), [(href, line) for href, line in memory[d][1]]) for d in digests]


def _parse(text: str) -> _Page:
    parser = _PageParser()
    parser.feed(text)
    return parser.page


def _url_of(path: Path, site_dir: Path, base_path: str) -> str:
    relative = path.relative_to(site_dir).as_posix()
    if relative == "index.html":
        return base_path
    if relative.endswith("/index.html"):
        return base_path + relative.removesuffix("index.html")
    return base_path + relative
