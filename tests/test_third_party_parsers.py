"""Every built file read by the tools crawlers and assistants use, not by our own code.

CommonMark (markdown-it-py) for the `.md` mirrors, the llms.txt reference parser (`llms_txt`), a
JSON-LD extractor (extruct), the sitemaps.org XSD (xmlschema, with the schemas vendored in
tests/schemas/) and Python's robots.txt parser, on both audiences, built at the root of a host and
under a sub-path.
"""

from __future__ import annotations

import functools
import gc
import gzip
import posixpath
import re
import urllib.robotparser
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from xml.etree import ElementTree

import extruct
import pytest
import xmlschema
from bs4 import BeautifulSoup
from llms_txt import parse_llms_file
from markdown_it import MarkdownIt

from runbooks import answers
from runbooks.labels import load_labels
from runbooks.schema import LANGUAGES
from runbooks.site import Site

from .cli import run_cli
from .conftest import SITE_URL

SUB_PATH_URL = "https://runbooks.example.org/docs/"
"""A real host with a path, as GitHub Pages serves a project site."""

SCHEMAS = Path(__file__).resolve().parent / "schemas"
HEADING_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable("table")
"""CommonMark with GitHub's tables, raw HTML allowed (the mirrors' anchors are `<a id>` elements)."""

# --- The sites ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A built site, the URL it was built for, and its audience."""

    root: Path
    site_url: str
    audience: str

    def file_of(self, url: str) -> Path | None:
        """The file an absolute URL under the site is served from, or None for a URL outside the site."""
        url = urldefrag(url)[0]
        if not url.startswith(self.site_url):
            return None
        path = unquote(url[len(self.site_url) :])
        return self.root / (path + "index.html" if path == "" or path.endswith("/") else path)

    def lang_root(self, lang: str) -> Path:
        """The directory of `lang`'s pages."""
        return self.root if lang == LANGUAGES[0] else self.root / lang


@pytest.fixture(scope="module")
def sub_path_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Both audiences built and gated by `python -m runbooks build` for a site under a sub-path."""
    sites = {}
    for audience in ("internal", "public"):
        out = tmp_path_factory.mktemp(f"sub-path-{audience}") / "site"
        ran = run_cli("build", "--audience", audience, "--site-dir", str(out), "--site-url", SUB_PATH_URL)
        assert ran.returncode == 0, (
            f"the {audience} site does not build under {SUB_PATH_URL}:\n{ran.stdout}{ran.stderr}"
        )
        sites[audience] = Built(out, SUB_PATH_URL, audience)
    return sites


@pytest.fixture(scope="module", params=["internal", "public", "internal under a sub-path", "public under a sub-path"])
def built(request: pytest.FixtureRequest) -> Built:
    """Each site: both audiences, at the root of a host and under a sub-path."""
    audience, _, where = request.param.partition(" ")
    if where:
        return request.getfixturevalue("sub_path_sites")[audience]
    fixture = "site" if audience == "internal" else "public_site"
    return Built(request.getfixturevalue(fixture), SITE_URL, audience)


def _site_of(built: Built, dataset, public_dataset) -> Site:
    return Site.of(public_dataset if built.audience == "public" else dataset, audience=built.audience)


@functools.lru_cache(maxsize=128)
def _soup(path: Path) -> BeautifulSoup:
    """The parsed page at `path`, parsed once for the tests of its site (they read it and never change it)."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@functools.lru_cache(maxsize=1024)
def _ids(path: Path) -> frozenset[str]:
    """The ids the page at `path` defines, read once."""
    return frozenset(tag["id"] for tag in _soup(path).select("[id]"))


@pytest.fixture(scope="module", autouse=True)
def _free_parsed_pages() -> Iterator[None]:
    """Free the pages this module parsed once its tests end, while other tests still run.

    Parsed pages are cyclic object graphs; left to the worker's exit, the last garbage collection frees
    them after every test has ended, and the whole run waits for it (seconds).
    """
    yield
    for cached in (_soup, _ids, _parse_mirror):
        cached.cache_clear()
    gc.collect()


def _html_files(built: Built) -> list[Path]:
    return sorted(built.root.rglob("*.html"))


# --- CommonMark: the Markdown mirrors --------------------------------------------------------------


@dataclass(frozen=True)
class Mirror:
    """A mirror parsed as CommonMark: its rendered HTML, the ids it defines and the links it makes."""

    path: Path
    html: BeautifulSoup
    ids: list[str]
    links: list[str]


@functools.lru_cache(maxsize=512)
def _parse_mirror(path: Path) -> Mirror:
    """The mirror at `path` parsed as CommonMark, once for the tests of its site (they never change it)."""
    html = BeautifulSoup(COMMONMARK.render(path.read_text(encoding="utf-8")), "html.parser")
    return Mirror(
        path=path,
        html=html,
        ids=[tag["id"] for tag in html.select("[id]")],
        links=[a["href"] for a in html.select("a[href]")],
    )


def _mirror_problems(mirror: Mirror) -> list[str]:
    """What CommonMark shows a reader as MkDocs syntax or HTML escapes, instead of what the page shows."""
    problems = []
    for text in mirror.html.find_all(string=True):
        if text.parent.name in ("code", "pre"):
            continue
        if text.lstrip().startswith(("!!!", "???")):
            problems.append(f"an admonition left as text: {text.strip()[:60]!r}")
        for leftover in ("{ #", "{: ", "{ .", ":material-"):
            if leftover in text:
                problems.append(f"MkDocs syntax {leftover!r} left as text: {text.strip()[:60]!r}")
        if re.search(r"&(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);", text):
            problems.append(f"an HTML escape shown as typed: {text.strip()[:60]!r}")
    for heading in mirror.html.select("h1, h2, h3, h4, h5, h6"):
        if not heading.select("a[id]"):
            problems.append(f"a heading without an anchor: {heading.get_text()[:60]!r}")
    return problems


def _mirror_link_problems(built: Built, mirror: Mirror, parsed: dict[Path, Mirror]) -> list[str]:
    """Each link of `mirror` that leads nowhere: a missing file, or an anchor the target does not define."""
    problems = []
    here = mirror.path.parent
    for href in mirror.links:
        target, fragment = urldefrag(href)
        if urlsplit(href).scheme in ("http", "https"):
            file = built.file_of(target)
            if file is None:
                continue  # another site
        elif href.startswith("#"):
            file = mirror.path
        else:
            file = Path(posixpath.normpath((here / unquote(target)).as_posix()))
        if not file.is_file():
            problems.append(f"{href}: no file {file.relative_to(built.root) if built.root in file.parents else file}")
            continue
        if fragment:
            if file.suffix == ".md":
                ids = parsed[file].ids if file in parsed else _parse_mirror(file).ids
            else:
                ids = _ids(file)
            if unquote(fragment) not in ids:
                problems.append(f"{href}: {file.name} defines no anchor {fragment!r}")
    return problems


def test_every_mirror_is_commonmark_with_working_links_and_anchors(built):
    mirrors = sorted(built.root.rglob("*.md"))
    assert len(mirrors) >= 2 * 9, f"too few mirrors in {built.root}: {mirrors}"
    parsed = {path: _parse_mirror(path) for path in mirrors}
    problems = {}
    for path, mirror in parsed.items():
        found = _mirror_problems(mirror) + _mirror_link_problems(built, mirror, parsed)
        if found:
            problems[path.relative_to(built.root).as_posix()] = found
    assert not problems, problems
    assert sum(len(m.links) for m in parsed.values()) > 50, "the mirrors link to almost nothing"


def test_each_mirror_has_the_anchors_of_its_page(built, dataset, public_dataset):
    site = _site_of(built, dataset, public_dataset)
    for lang in LANGUAGES:
        for page in site.pages:
            mirror = _parse_mirror(built.lang_root(lang) / answers.mirror_path(page))
            html = _soup(built.lang_root(lang) / page.url / "index.html")
            on_page = [h["id"] for h in html.select("article h1, article h2, article h3, article h4, article h5")]
            in_mirror = [a["id"] for h in mirror.html.select("h1, h2, h3, h4, h5") for a in h.select("a[id]")]
            assert in_mirror == on_page, (lang, page.path)


def test_the_mirror_checks_find_what_commonmark_shows_as_mkdocs_syntax(tmp_path):
    broken = tmp_path / "page.md"
    broken.write_text(
        '# Title { #title }\n\n!!! info "Last verified"\n    Today.\n\nPlans &amp;amp; Billing\n\n'
        "- :material-check: yes\n\n[Other](other.md#nowhere) [Here](#nowhere) [Gone](gone.md)\n",
        encoding="utf-8",
    )
    (tmp_path / "other.md").write_text('# <a id="other"></a>Other\n', encoding="utf-8")
    mirror = _parse_mirror(broken)
    problems = " | ".join(_mirror_problems(mirror))
    for expected in ("an admonition", "'{ #'", "HTML escape", "':material-'", "heading without an anchor"):
        assert expected in problems, (expected, problems)
    links = _mirror_link_problems(Built(tmp_path, SITE_URL, "public"), mirror, {})
    assert [problem.split(":")[0] for problem in links] == ["other.md#nowhere", "#nowhere", "gone.md"]


def test_a_page_of_the_providers_index_links_to_the_provider_mirrors(public_site, public_dataset):
    # providers/index.md is published as providers.md, one folder up: its links must still reach openai.md.
    site = Site.of(public_dataset, audience="public")
    index = site.page("providers/index.md")
    for lang in LANGUAGES:
        base = Built(public_site, SITE_URL, "public").lang_root(lang)
        mirror = _parse_mirror(base / answers.mirror_path(index))
        targets = {urldefrag(href)[0] for href in mirror.links}
        for pid in public_dataset.providers.providers:
            assert f"providers/{pid}.md" in targets, (lang, pid, targets)


# --- Headings --------------------------------------------------------------------------------------


def test_every_heading_has_a_stable_ascii_anchor_the_same_in_both_languages(site, dataset):
    for page in Site.of(dataset).pages:
        ids = {}
        for lang in LANGUAGES:
            soup = _soup(Built(site, SITE_URL, "internal").lang_root(lang) / page.url / "index.html")
            headings = soup.select("article h1, article h2, article h3, article h4, article h5, article h6")
            assert headings, page.path
            ids[lang] = [h.get("id", "") for h in headings]
            bad = [i for i in ids[lang] if not HEADING_ID.fullmatch(i)]
            assert not bad, f"{lang} {page.path}: headings without a stable ASCII anchor: {bad}"
        assert ids["zh"] == ids["en"], page.path


# --- llms.txt: the reference parser ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_llms_txt_parses_with_the_reference_parser_and_every_link_leads_somewhere(built, lang):
    base = built.lang_root(lang)
    if built.audience == "internal":
        assert not (base / "llms.txt").exists() and not (base / "llms-full.txt").exists()
        return
    parsed = parse_llms_file((base / "llms.txt").read_text(encoding="utf-8"))
    assert parsed.title == _soup(base / "index.html").title.get_text().strip()
    assert parsed.summary and parsed.info
    assert parsed.sections and all(parsed.sections.values()), parsed.sections
    for section, links in parsed.sections.items():
        for link in links:
            assert link.title and link.url.startswith(built.site_url), (section, link)
            file = built.file_of(link.url)
            assert file is not None and file.is_file(), (section, link.url)
            fragment = urldefrag(link.url)[1]
            if fragment:
                assert fragment in _ids(file), link.url
    full = COMMONMARK.parse((base / "llms-full.txt").read_text(encoding="utf-8"))
    questions = [t for t in full if t.type == "heading_open" and t.tag == "h2"]
    faq_links = [link for links in parsed.sections.values() for link in links if "#" in link.url]
    assert len(questions) == len(faq_links) > 0


def test_the_reference_parser_refuses_a_section_line_that_is_not_a_link():
    with pytest.raises(AttributeError):
        parse_llms_file("# Title\n\n> Summary\n\n## Docs\n\n- [A page](https://example.org/a.md): fine\nplain text\n")


# --- JSON-LD: extruct ----------------------------------------------------------------------------


def test_json_ld_extracts_as_one_faq_page_per_language(built, dataset, public_dataset):
    site = _site_of(built, dataset, public_dataset)
    found = {}
    for path in _html_files(built):
        html = path.read_text(encoding="utf-8")
        data = extruct.extract(html, base_url=built.site_url, syntaxes=["json-ld"], errors="strict")["json-ld"]
        if data:
            found[path.relative_to(built.root).as_posix()] = data
    faq = site.page_of("faq")
    expected = {}
    for lang in LANGUAGES:
        expected[(built.lang_root(lang) / faq.url / "index.html").relative_to(built.root).as_posix()] = lang
    assert set(found) == set(expected)
    for where, items in found.items():
        [item] = items
        assert item["@context"] == "https://schema.org" and item["@type"] == "FAQPage"
        assert item["inLanguage"] == expected[where]
        assert item["url"] == answers.page_url(faq, built.site_url, expected[where])
        questions = item["mainEntity"]
        assert [urlsplit(q["url"]).fragment for q in questions] == list(site.faqs)
        for question in questions:
            assert question["@type"] == "Question" and question["name"]
            assert question["acceptedAnswer"]["@type"] == "Answer" and question["acceptedAnswer"]["text"]


def test_the_json_ld_extractor_reads_what_it_is_given():
    html = '<html><head><script type="application/ld+json">{"@type": "FAQPage", "name": "x"}</script></head></html>'
    assert extruct.extract(html, syntaxes=["json-ld"])["json-ld"] == [{"@type": "FAQPage", "name": "x"}]
    assert extruct.extract("<html><head></head></html>", syntaxes=["json-ld"])["json-ld"] == []


# --- The sitemap: the sitemaps.org XSD ------------------------------------------------------------


@pytest.fixture(scope="module")
def sitemap_schema() -> xmlschema.XMLSchema:
    """The sitemaps.org schema with the XHTML schema for the `xhtml:link` alternates (tests/schemas/)."""
    both = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.sitemaps.org/schemas/sitemap/0.9" schemaLocation="sitemap.xsd"/>
  <xs:import namespace="http://www.w3.org/1999/xhtml" schemaLocation="xhtml1-strict.xsd"/>
</xs:schema>"""
    # Sandboxed: only the vendored files, never the network.
    return xmlschema.XMLSchema(both, base_url=str(SCHEMAS) + "/", allow="sandbox")


def test_the_sitemap_is_valid_against_the_sitemaps_org_schema(built, sitemap_schema, dataset, public_dataset):
    sitemap = built.root / "sitemap.xml"
    if built.audience == "internal":
        assert not list(built.root.rglob("sitemap.xml*")), "the team's site must have no sitemap"
        return
    assert not list(built.root.glob("*/sitemap.xml*")), "one sitemap, at the root"
    text = sitemap.read_text(encoding="utf-8")
    sitemap_schema.validate(text)
    assert gzip.decompress((built.root / "sitemap.xml.gz").read_bytes()).decode("utf-8") == text
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ElementTree.fromstring(text).findall("s:url", ns)
    assert len(urls) == len(_site_of(built, dataset, public_dataset).pages) * len(LANGUAGES)
    for url in urls:
        loc = url.findtext("s:loc", namespaces=ns)
        assert loc.startswith(built.site_url) and built.file_of(loc).is_file(), loc
        alternates = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", ns)}
        assert set(alternates) == {*LANGUAGES, "x-default"}
        assert loc in alternates.values()
        assert all(built.file_of(href).is_file() for href in alternates.values()), alternates


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (('hreflang="en"', 'hreflang="en english"'), "an hreflang that is no language tag"),
        (("<lastmod>", "<lastmod>last week "), "a lastmod that is no date"),
        (("<loc>", "<location>"), "an element the schema does not define"),
    ],
)
def test_the_sitemap_schema_refuses_a_broken_sitemap(public_site, sitemap_schema, change, why):
    text = (public_site / "sitemap.xml").read_text(encoding="utf-8")
    broken = text.replace(*change, 1)
    if change[0] == "<loc>":
        broken = broken.replace("</loc>", "</location>", 1)
    assert broken != text
    assert not sitemap_schema.is_valid(broken), why


# --- robots.txt: urllib.robotparser -----------------------------------------------------------------


def _robots(built: Built) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser()
    parser.parse((built.root / "robots.txt").read_text(encoding="utf-8").splitlines())
    return parser


def test_robots_txt_lets_crawlers_in_to_the_public_site_only(built, dataset, public_dataset):
    robots = _robots(built)
    site = _site_of(built, dataset, public_dataset)
    urls = [answers.page_url(page, built.site_url, lang) for page in site.pages for lang in LANGUAGES]
    allowed = {url: robots.can_fetch("Googlebot", url) for url in urls}
    if built.audience == "public":
        assert all(allowed.values()), allowed
        assert robots.site_maps() == [built.site_url + "sitemap.xml"]
    else:
        assert not any(allowed.values()), allowed
        assert robots.site_maps() is None
    # The rules cover the site's own path, not the rest of a host it shares.
    elsewhere = urljoin(built.site_url, "/elsewhere/") if urlsplit(built.site_url).path != "/" else None
    if elsewhere:
        assert robots.can_fetch("Googlebot", elsewhere)


# --- Under a sub-path ------------------------------------------------------------------------------


def test_under_a_sub_path_every_link_of_every_page_stays_under_it(sub_path_sites):
    root_path = urlsplit(SUB_PATH_URL).path
    for built in sub_path_sites.values():
        for path in _html_files(built):
            soup = _soup(path)
            for tag in soup.select("[href], [src]"):
                link = tag.get("href") or tag.get("src")
                if link.startswith("/"):
                    assert link.startswith(root_path), (path.relative_to(built.root), link)
            for a in soup.select("a.md-select__link"):
                assert a["href"].startswith(root_path), (path.name, a["href"])


def test_the_404_pages_lead_to_each_language_home(sub_path_sites):
    root_path = urlsplit(SUB_PATH_URL).path
    for built in sub_path_sites.values():
        for lang in LANGUAGES:
            soup = _soup(built.lang_root(lang) / "404.html")
            links = {a["hreflang"]: a["href"] for a in soup.select("a.md-select__link")}
            assert links == {other: root_path + ("" if other == LANGUAGES[0] else f"{other}/") for other in LANGUAGES}


# --- What the browser will fetch --------------------------------------------------------------------


def test_every_alternate_link_has_the_sitemap_the_theme_fetches_beside_it(built):
    # The theme takes each <link rel="alternate"> for another language's root and fetches sitemap.xml beside it.
    for path in _html_files(built):
        page = built.site_url + path.relative_to(built.root).as_posix()
        for link in _soup(path).select('link[rel~="alternate"]'):
            beside = urljoin(urljoin(page, link["href"]), "sitemap.xml")
            file = built.file_of(beside)
            assert file is not None and file.is_file(), (path.relative_to(built.root), link["href"], beside)


def test_the_footer_is_in_the_language_of_the_page(site):
    words = load_labels()["footer_made_with"]
    others = LANGUAGES[1:]
    pages = _html_files(Built(site, SITE_URL, "internal"))
    assert len(pages) > 20
    for path in pages:
        first = path.relative_to(site).parts[0]
        lang = first if first in others else LANGUAGES[0]
        before, placeholder, after = words(lang).partition("{theme}")
        assert placeholder, f"labels.yaml: footer_made_with ({lang}) must name the theme as {{theme}}"
        footer = " ".join(_soup(path).select_one(".md-copyright").get_text().split())
        assert footer == " ".join(f"{before}Material for MkDocs{after}".split()), (lang, path)


def test_the_vendored_schemas_say_where_they_come_from():
    sources = (SCHEMAS / "SOURCES.md").read_text(encoding="utf-8")
    for name in ("sitemap.xsd", "xhtml1-strict.xsd"):
        assert (SCHEMAS / name).is_file() and name in sources
    assert "https://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd" in sources
    assert "https://www.w3.org/2002/08/xhtml/xhtml1-strict.xsd" in sources
