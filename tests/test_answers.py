"""Answer-engine outputs: JSON-LD, llms.txt, Markdown mirrors, JSON exports, hreflang, sitemap and search."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import jsonschema
import pytest
from bs4 import BeautifulSoup
from llms_txt import parse_llms_file
from markdown_it import MarkdownIt

from runbooks import answers
from runbooks.findings import DataError, dotted
from runbooks.loader import load
from runbooks.schema import LANGUAGES
from runbooks.site import Site

from .conftest import SITE_URL, mkdocs_build
from .factory import many_providers, valid_data, write_data

# --- Helpers --------------------------------------------------------------------------------------


def _file_of(site: Path, url: str) -> Path:
    """The built file an absolute URL of the session's site is served from."""
    assert url.startswith(SITE_URL), f"{url} is not under {SITE_URL}"
    path = urldefrag(url)[0][len(SITE_URL) :]
    return site / (path + "index.html" if path == "" or path.endswith("/") else path)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _ids(soup: BeautifulSoup) -> list[str]:
    return [tag["id"] for tag in soup.select("article [id]")]


def _visible_faq(soup: BeautifulSoup) -> dict[str, tuple[str, str]]:
    """Question heading text and direct-answer text of every FAQ entry on a built page, by anchor."""
    out = {}
    for answer in soup.select("article p.faq-answer"):
        heading = answer.find_previous_sibling("h3")
        title = "".join(t for t in heading.find_all(string=True) if "headerlink" not in t.parent.get("class", []))
        out[heading["id"]] = (" ".join(title.split()), " ".join(answer.get_text().split()))
    return out


def _jsonld(soup: BeautifulSoup) -> list[dict]:
    return [json.loads(tag.string) for tag in soup.select('script[type="application/ld+json"]')]


def _parse_llms_txt(text: str) -> dict:
    """Parse an llms.txt with the format's reference parser (`llms_txt`), and check what it lets pass."""
    parsed = parse_llms_file(text)
    assert parsed.title and parsed.summary, "an llms.txt needs an H1 title and a summary blockquote"
    lines = text.splitlines()
    assert lines[0] == f"# {parsed.title}", "the first line must be the H1 title"
    assert not [line for line in lines[1:] if line.startswith(("# ", "### "))], "only H2 sections after the title"
    sections = {
        name: [{"name": link.title, "url": link.url, "notes": link.desc} for link in links]
        for name, links in parsed.sections.items()
    }
    assert sections and all(sections.values()), "an llms.txt needs H2 lists of links"
    return {"title": parsed.title, "summary": parsed.summary, "sections": sections}


# --- Pure functions -------------------------------------------------------------------------------


def test_script_json_cannot_close_the_script_element():
    hostile = {"text": "</script><script>alert(1)</script><!-- \u2028 & -->"}
    encoded = answers.script_json(hostile)
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded and "\u2028" not in encoded
    assert json.loads(encoded) == hostile


def test_plain_drops_code_fences_only():
    assert answers.plain("Set `OPENAI_API_KEY`,  then  ``a`b``.") == "Set OPENAI_API_KEY, then a`b."


COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable("table")


def _commonmark(markdown: str) -> BeautifulSoup:
    return BeautifulSoup(COMMONMARK.render(markdown), "html.parser")


def test_markdown_mirror_turns_heading_ids_into_anchors_and_drops_other_attribute_lists():
    markdown = "## Models { #models }\n\nAn answer.\n{ .faq-answer }\n\nKeep {braces} and `{ #code }`.\n"
    mirror = answers.markdown_mirror(markdown)
    html = _commonmark(mirror)
    assert [(h.name, h.get_text(), [a["id"] for a in h.select("a[id]")]) for h in html.select("h2")] == [
        ("h2", "Models", ["models"])
    ]
    assert [p.get_text() for p in html.select("p")] == ["An answer.", "Keep {braces} and { #code }."]
    assert "faq-answer" not in mirror


def test_markdown_mirror_makes_an_admonition_a_block_quote_under_its_title():
    markdown = (
        '!!! danger "Never paste a full key"\n    Keep these out:\n\n    - the key\n    - `Authorization`\n\nAfter.\n'
    )
    html = _commonmark(answers.markdown_mirror(markdown))
    quote = html.select_one("blockquote")
    assert quote.select_one("strong").get_text() == "Never paste a full key"
    assert [li.get_text() for li in quote.select("li")] == ["the key", "Authorization"]
    assert html.select("blockquote + p")[0].get_text() == "After.", "the paragraph after it is not part of it"
    assert "!!!" not in html.get_text()


def test_markdown_mirror_shows_text_as_typed_without_html_escapes():
    # What runbooks.render.md makes of data text: HTML escaped, Markdown punctuation backslash-escaped.
    markdown = "Plans &amp; Billing, AT&amp;amp;T, a &lt;script&gt; tag, \\[x\\](y) and `a &amp; b`.\n"
    mirror = answers.markdown_mirror(markdown)
    assert "Plans & Billing" in mirror and "Plans &amp;" not in mirror
    html = _commonmark(mirror)
    assert html.select_one("p").get_text() == "Plans & Billing, AT&amp;T, a <script> tag, [x](y) and a &amp; b."
    assert not html.select("script")


def test_markdown_mirror_shows_icons_as_characters():
    html = _commonmark(answers.markdown_mirror("- :material-check: may\n- :material-close: may not\n"))
    assert [li.get_text() for li in html.select("li")] == ["✓ may", "✗ may not"]


def test_markdown_mirror_links_lead_to_the_mirrors_of_the_pages_they_link(dataset):
    site = Site.of(dataset)
    cases = [
        # The providers index (providers/index.md) is published as providers.md, one folder up.
        (
            "providers/index.md",
            "[OpenAI](openai.md) [steps](openai.md#recharge)",
            ["providers/openai.md", "providers/openai.md#recharge"],
        ),
        (
            "providers/openai.md",
            "[FAQ](../faq.md#x) [all](index.md) [home](../index.md)",
            ["../faq.md#x", "../providers.md", "../index.md"],
        ),
        (
            "faq.md",
            "[all](providers/index.md) [here](#x) [out](https://example.org/a.md)",
            ["providers.md", "#x", "https://example.org/a.md"],
        ),
    ]
    for path, markdown, expected in cases:
        html = _commonmark(answers.markdown_mirror(markdown, site.page(path), site))
        assert [a["href"] for a in html.select("a")] == expected, path


def test_markdown_mirror_leaves_code_as_it_is():
    markdown = (
        "Text `[x](a.md) &amp; :material-check:`.\n\n```yaml\n!!! not an admonition\nkey: a &amp; b { #id }\n```\n"
    )
    mirror = answers.markdown_mirror(markdown)
    assert "`[x](a.md) &amp; :material-check:`" in mirror
    assert "!!! not an admonition\nkey: a &amp; b { #id }\n```" in mirror


def test_robots_txt_covers_the_path_the_site_is_served_at():
    for site_url, path in (("https://runbooks.example.org/", "/"), ("https://runbooks.example.org/docs/", "/docs/")):
        public = answers.robots_txt(site_url, public=True).splitlines()
        assert f"Allow: {path}" in public and f"Sitemap: {site_url}sitemap.xml" in public
        assert f"Disallow: {path}" in answers.robots_txt(site_url, public=False).splitlines()


def test_faq_jsonld_has_every_question_of_the_data(dataset):
    faq_page = next(page for page in Site.of(dataset).pages if page.kind == "faq")
    for lang in LANGUAGES:
        data = answers.faq_jsonld(faq_page, Site.of(dataset), lang, SITE_URL)
        assert data["@type"] == "FAQPage" and data["inLanguage"] == lang
        names = [q["name"] for q in data["mainEntity"]]
        assert names == [answers.plain(f.question(lang)) for f in Site.of(dataset).faqs.values()]
        assert all(q["url"].startswith(data["url"] + "#") for q in data["mainEntity"])
    # On a small site no other page is an FAQ page.
    assert [p.kind for p in Site.of(dataset).pages if answers.faq_jsonld(p, Site.of(dataset), "en", SITE_URL)] == [
        "faq"
    ]


def test_on_a_large_site_each_question_is_answered_once_on_its_provider_page(tmp_path):
    from runbooks.site import PROVIDERS_LISTED_MAX

    large = load(write_data(tmp_path, many_providers(PROVIDERS_LISTED_MAX + 1)))
    assert Site.of(large).large
    for lang in LANGUAGES:
        urls = answers.faq_urls(Site.of(large), SITE_URL, lang)
        seen: dict[str, str] = {}
        for page in Site.of(large).pages:
            data = answers.faq_jsonld(page, Site.of(large), lang, SITE_URL)
            for question in data["mainEntity"] if data else []:
                fid = question["url"].rsplit("#", 1)[1]
                assert fid not in seen, (fid, page.path, seen.get(fid))
                seen[fid] = page.path
                assert question["url"] == urls[fid]
        assert sorted(seen) == sorted(Site.of(large).faqs)
        team_ids = {faq.id for faq in large.team.faqs}
        for pid, provider in large.providers.providers.items():
            for faq in provider.faqs:
                assert seen[faq.id] == f"providers/{pid}.md" and urls[faq.id].endswith(f"/{pid}/#{faq.id}")
        assert {fid for fid, path in seen.items() if path == "faq.md"} == team_ids


@pytest.mark.parametrize(
    ("answer", "sentences"),
    [("One. Two.", 2), ("一句。两句。", 2), ("Use `gpt-4.5` here. Version 2.5 is fine.", 2), ("No end", 1)],
)
def test_sentence_count(answer, sentences):
    from runbooks.schema import sentence_count

    assert sentence_count(answer) == sentences


def test_an_answer_of_three_sentences_is_refused_with_its_path(data_factory):
    def long_answer(data):
        data["team"]["faqs"][0]["answer"]["en"] = "One. Two. Three."

    with pytest.raises(DataError) as err:
        load(data_factory(long_answer))
    [problem] = err.value.findings
    assert dotted(problem.path) == "faqs[0].answer" and "3 sentences" in problem.message and problem.line > 0


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda d: d["team"]["faqs"][0].update(id="acme"), "faqs[0].id", "anchor of a section"),
        (lambda d: d["team"]["faqs"][0].update(id="general"), "faqs[0].id", "anchor of a section"),
        (lambda d: d["team"]["faqs"][0].update(id="providers"), "faqs[0].id", "anchor of a section of the faq"),
        (lambda d: d["team"]["faqs"][0].update(id="recharge"), "faqs[0].id", "section of provider pages"),
        (lambda d: d["team"]["faqs"][0].update(providers=["nobody"]), "faqs[0].providers[0]", "not a documented"),
        (lambda d: d["team"]["faqs"][0].pop("boundary"), "faqs[0].boundary", "field required"),
    ],
)
def test_faq_rules_name_the_yaml_path(data_factory, mutate, path, words):
    with pytest.raises(DataError) as err:
        load(data_factory(mutate))
    assert [(dotted(p.path), words in p.message.lower()) for p in err.value.findings] == [(path, True)]


def test_llms_txt_follows_the_format_and_lists_every_page_and_question(dataset):
    for lang in LANGUAGES:
        parsed = _parse_llms_txt(answers.llms_txt(Site.of(dataset), lang, SITE_URL, title="Runbooks"))
        urls = [item["url"] for items in parsed["sections"].values() for item in items]
        for page in Site.of(dataset).pages:
            if page.kind not in ("home", "faq"):
                assert answers.language_root(SITE_URL, lang) + answers.mirror_path(page) in urls
        faq_page = answers.page_url(next(p for p in Site.of(dataset).pages if p.kind == "faq"), SITE_URL, lang)
        assert {f"{faq_page}#{fid}" for fid in Site.of(dataset).faqs} <= set(urls)


def test_exports_validate_against_their_published_schemas(dataset):
    for name, build in (("providers.json", answers.providers_export), ("faq.json", answers.faq_export)):
        schema = answers.json_schema(name, SITE_URL)
        jsonschema.Draft202012Validator.check_schema(schema)
        document = build(Site.of(dataset), SITE_URL)
        jsonschema.validate(document, schema)
        broken = json.loads(json.dumps(document))
        del broken[next(iter(broken))]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_sitemap_lists_every_page_in_every_language_with_alternates(dataset):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(answers.sitemap_xml(Site.of(dataset), SITE_URL))
    locs = [url.findtext("s:loc", namespaces=ns) for url in root.findall("s:url", ns)]
    expected = [answers.page_url(page, SITE_URL, lang) for page in Site.of(dataset).pages for lang in LANGUAGES]
    assert locs == expected
    for url in root.findall("s:url", ns):
        langs = [link.get("hreflang") for link in url.findall("x:link", ns)]
        assert langs == [*LANGUAGES, "x-default"]


# --- The built site -------------------------------------------------------------------------------


def test_faq_json_ld_equals_the_visible_questions_and_answers(public_site, public_dataset):
    for lang in LANGUAGES:
        soup = _soup(
            _file_of(
                public_site,
                answers.page_url(next(p for p in Site.of(public_dataset).pages if p.kind == "faq"), SITE_URL, lang),
            )
        )
        [data] = _jsonld(soup)
        assert data["@type"] == "FAQPage" and data["inLanguage"] == soup.html["lang"] == lang
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["dateModified"])
        assert data["dateModified"] in soup.select_one("article .admonition").get_text()
        in_jsonld = {urlsplit(q["url"]).fragment: (q["name"], q["acceptedAnswer"]["text"]) for q in data["mainEntity"]}
        assert in_jsonld == _visible_faq(soup)
        assert len(in_jsonld) == len(Site.of(public_dataset).faqs)


def test_faq_anchors_are_identical_across_languages_and_unique(public_site, public_dataset):
    faq = next(p for p in Site.of(public_dataset).pages if p.kind == "faq")
    anchors = {}
    for lang in LANGUAGES:
        soup = _soup(_file_of(public_site, answers.page_url(faq, SITE_URL, lang)))
        ids = _ids(soup)
        assert len(ids) == len(set(ids)), f"duplicate ids on the {lang} FAQ page"
        anchors[lang] = list(_visible_faq(soup))
        assert all(re.fullmatch(r"[a-z0-9-]+", a) for a in anchors[lang])
    assert anchors["zh"] == anchors["en"] == list(Site.of(public_dataset).faqs)


def test_every_page_has_an_absolute_canonical_and_the_sitemap_names_its_languages(public_site, public_dataset):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    sitemap = {
        url.findtext("s:loc", namespaces=ns): {
            link.get("hreflang"): link.get("href") for link in url.findall("x:link", ns)
        }
        for url in ET.parse(public_site / "sitemap.xml").getroot().iterfind("s:url", ns)
    }
    for page in Site.of(public_dataset).pages:
        for lang in LANGUAGES:
            url = answers.page_url(page, SITE_URL, lang)
            soup = _soup(_file_of(public_site, url))
            assert soup.select_one('link[rel="canonical"]')["href"] == url
            # The hreflang alternates are in the sitemap, not the page: the theme takes every
            # <link rel="alternate"> of a page for another language's root and fetches a sitemap beside it.
            assert not soup.select('link[rel~="alternate"]'), url
            links = sitemap[url]
            assert set(links) == {*LANGUAGES, "x-default"} and links["x-default"] == links[LANGUAGES[0]]
            assert links[lang] == url
            for href in links.values():
                assert urlsplit(href).scheme in ("http", "https") and _file_of(public_site, href).is_file(), href


@pytest.mark.parametrize("lang", LANGUAGES)
def test_llms_txt_of_the_site_parses_and_its_links_exist(public_site, lang):
    base = public_site if lang == LANGUAGES[0] else public_site / lang
    parsed = _parse_llms_txt((base / "llms.txt").read_text(encoding="utf-8"))
    for items in parsed["sections"].values():
        for item in items:
            url, fragment = urldefrag(item["url"])
            target = _file_of(public_site, url)
            assert target.is_file(), item["url"]
            if fragment:
                assert fragment in _ids(_soup(target)), item["url"]
    full = (base / "llms-full.txt").read_text(encoding="utf-8")
    assert full.count("\n## ") == len(
        parsed["sections"][next(k for k in parsed["sections"] if "FAQ" in k or "问题" in k)]
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_has_a_markdown_mirror_at_its_url_plus_md(public_site, public_dataset, lang):
    base = public_site if lang == LANGUAGES[0] else public_site / lang
    for page in Site.of(public_dataset).pages:
        mirror = base / answers.mirror_path(page)
        assert mirror.is_file(), mirror
        text = mirror.read_text(encoding="utf-8")
        h1 = _soup(_file_of(public_site, answers.page_url(page, SITE_URL, lang))).select_one("article h1")
        heading = "".join(t for t in h1.find_all(string=True) if "headerlink" not in t.parent.get("class", []))
        first = _commonmark(text.splitlines()[0]).select_one("h1")
        assert first.get_text() == heading.strip()
        assert [a["id"] for a in first.select("a[id]")] == [h1["id"]]
        assert "{ #" not in text and "{ ." not in text


def test_json_exports_at_the_root_validate_against_the_schemas_beside_them(public_site, public_dataset):
    for name in answers.EXPORTS:
        document = json.loads((public_site / name).read_text(encoding="utf-8"))
        schema = json.loads((public_site / answers.schema_name(name)).read_text(encoding="utf-8"))
        jsonschema.validate(document, schema)
    faq = json.loads((public_site / "faq.json").read_text(encoding="utf-8"))
    assert [q["id"] for q in faq["questions"]] == list(Site.of(public_dataset).faqs)
    providers = json.loads((public_site / "providers.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in providers["providers"]] == list(public_dataset.providers.providers)
    for provider in providers["providers"]:
        assert all(_file_of(public_site, url).is_file() for url in provider["runbook"].values())


def test_one_sitemap_lists_both_languages_and_only_existing_pages(public_site, public_dataset):
    assert not (public_site / "en" / "sitemap.xml").exists()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.parse(public_site / "sitemap.xml").getroot().iterfind("s:url/s:loc", ns)]
    assert len(locs) == len(Site.of(public_dataset).pages) * len(LANGUAGES)
    assert all(_file_of(public_site, loc).is_file() for loc in locs)


SEARCH_TERMS = {"充值": {"providers/openai/", "faq/"}, "余额": {"providers/deepseek/", "faq/"}, "额度": {"faq/"}}


@pytest.mark.parametrize(("term", "expected"), SEARCH_TERMS.items())
def test_chinese_search_index_holds_segmented_words(public_site, term, expected):
    index = json.loads((public_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"])
    found = set()
    for doc in index["docs"]:
        tokens = separator.split(doc["title"] + " " + doc["text"])
        if term in tokens:
            found.add(doc["location"].split("#")[0])
    assert expected <= found, f"{term!r} is not a token of {expected - found}"
    english = json.loads((public_site / "en" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert english["config"]["lang"] == ["en"]


def test_hostile_faq_text_stays_inside_the_json_ld(tmp_path):
    payload = '</script><script>alert(1)</script>"><img src=x onerror=alert(2)>'
    data = valid_data()
    data["team"]["faqs"][0]["answer"]["en"] = "Plain answer " + payload
    data_dir = write_data(tmp_path, data)
    result = mkdocs_build(data_dir, tmp_path / "site", "public")
    assert result.returncode == 0, result.stderr
    soup = _soup(tmp_path / "site" / "en" / "faq" / "index.html")
    [data_ld] = _jsonld(soup)
    assert data_ld["mainEntity"][0]["acceptedAnswer"]["text"] == "Plain answer " + payload
    assert [s.get("type") for s in soup.select("script") if "alert" in (s.string or "")] == ["application/ld+json"]
    assert not soup.select("img[onerror]")
    # In the Markdown mirror, a CommonMark reader shows the same text as typed, and no element of it.
    mirror = _commonmark((tmp_path / "site" / "en" / "faq.md").read_text(encoding="utf-8"))
    assert "Plain answer " + payload in " ".join(p.get_text() for p in mirror.select("p"))
    assert not mirror.select("script, img")
