"""A large site: providers beyond the navigation's limit build strictly, every language complete, files once."""

from __future__ import annotations

import json
import os
import subprocess

from bs4 import BeautifulSoup

from runbooks import engine
from runbooks.checks.links import PARALLEL_MIN_PAGES as LINKS_PARALLEL_MIN_PAGES
from runbooks.checks.links import check_links
from runbooks.loader import load
from runbooks.schema import LANGUAGES
from runbooks.site import PROVIDERS_LISTED_MAX, Site

from .conftest import ROOT
from .factory import many_providers, write_data


def test_a_site_too_large_for_the_navigation_builds_every_page_in_parallel(tmp_path):
    # Beyond the navigation's limit, and enough pages in both languages for the link gate's parallel parse.
    count = max(PROVIDERS_LISTED_MAX + 1, LINKS_PARALLEL_MIN_PAGES // len(LANGUAGES))
    data_dir = write_data(tmp_path, many_providers(count))
    dataset = load(data_dir)
    assert Site.of(dataset).large
    site = tmp_path / "out" / "site"
    env = {**os.environ, "RUNBOOKS_DATA": str(data_dir), "NO_MKDOCS_2_WARNING": "1"}
    command = engine.command("build", "--strict", *engine.config_args(ROOT / "mkdocs.yml"), "--site-dir", str(site))
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not included in the" not in result.stderr
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"]  # no build directory left beside it
    for lang in LANGUAGES:
        base = site if lang == LANGUAGES[0] else site / lang
        for page in Site.of(dataset).pages:
            html = (base / page.url / "index.html").read_text(encoding="utf-8")
            assert f'lang="{lang}"' in html, (lang, page.path)
        nav_links = {
            a["href"]
            for a in BeautifulSoup((base / "index.html").read_text(encoding="utf-8"), "html.parser").select(
                "nav.md-nav--primary a[href]"
            )
        }
        assert any("providers/" in href for href in nav_links)
        assert not any("provider-0001" in href for href in nav_links)
        index = BeautifulSoup((base / "providers" / "index.html").read_text(encoding="utf-8"), "html.parser")
        listed = {a["href"].split("#")[0] for a in index.select("article a[href]")}
        assert {f"{pid}/" for pid in dataset.providers.providers} <= listed
        # Each provider's questions are answered, and marked up as an FAQPage, on its own page.
        for path, expected in (
            (base / "providers" / "provider-0001" / "index.html", dataset.providers.providers["provider-0001"].faqs),
            (base / "faq" / "index.html", dataset.team.faqs),
        ):
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            [jsonld] = [json.loads(tag.string) for tag in soup.select('script[type="application/ld+json"]')]
            assert [q["url"].rsplit("#", 1)[1] for q in jsonld["mainEntity"]] == [faq.id for faq in expected]
            assert all(soup.find(id=faq.id) is not None for faq in expected)
    # The site-wide files are written once, at the root only.
    assert "Disallow: /" in (site / "robots.txt").read_text(encoding="utf-8")
    assert not list(site.rglob("sitemap.xml*"))
    faq = json.loads((site / "faq.json").read_text(encoding="utf-8"))
    first = dataset.providers.providers["provider-0001"].faqs[0].id
    [entry] = [q for q in faq["questions"] if q["id"] == first]
    assert entry["url"]["en"] == f"http://127.0.0.1:8000/en/providers/provider-0001/#{first}"
    providers = json.loads((site / "providers.json").read_text(encoding="utf-8"))
    assert len(providers["providers"]) == count
    for name in ("robots.txt", "faq.json", "providers.json", "faq.schema.json", "providers.schema.json"):
        assert not (site / "en" / name).exists(), name
    # The link gate parses a site this size in parallel; it must still find every broken anchor.
    assert len(list(site.rglob("*.html"))) >= LINKS_PARALLEL_MIN_PAGES
    assert check_links(site, site_url="http://127.0.0.1:8000/") == []
    page = site / "en" / "providers" / "provider-0002" / "index.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace("</article>", '<a href="../../errors/#no-such-code">x</a></article>'),
        encoding="utf-8",
    )
    findings = check_links(site, site_url="http://127.0.0.1:8000/")
    assert [(f.reason, f.file.endswith("en/providers/provider-0002/index.html")) for f in findings] == [
        ("broken_anchor", True)
    ]


def test_a_large_public_site_gets_one_sitemap_and_every_answer_engine_file(tmp_path):
    count = PROVIDERS_LISTED_MAX + 1
    data_dir = write_data(tmp_path, many_providers(count))
    site = tmp_path / "out" / "site"
    env = {**os.environ, "RUNBOOKS_DATA": str(data_dir), "RUNBOOKS_AUDIENCE": "public", "NO_MKDOCS_2_WARNING": "1"}
    command = engine.command("build", "--strict", *engine.config_args(ROOT / "mkdocs.yml"), "--site-dir", str(site))
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("sitemap.xml*")) == [
        "sitemap.xml",
        "sitemap.xml.gz",
    ]
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert 'hreflang="en" href="http://127.0.0.1:8000/en/providers/provider-0001/"' in sitemap
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in (site / "robots.txt").read_text(encoding="utf-8")
    for base, root in ((site, "http://127.0.0.1:8000/"), (site / "en", "http://127.0.0.1:8000/en/")):
        llms = (base / "llms.txt").read_text(encoding="utf-8")
        assert f"]({root}providers/provider-0001/#provider-0001-faq-1)" in llms
