"""One language's build without MkDocs: its URLs, its language switcher, its pages and what it leaves behind."""

from __future__ import annotations

import pytest

from runbooks import language_run
from runbooks.language_run import LanguageRun, PageError, SettingError, language_and_audience
from runbooks.render import RenderError
from runbooks.site import Site


@pytest.fixture(scope="module")
def real_site(dataset) -> Site:
    return Site.of(dataset)


@pytest.mark.parametrize(
    ("lang", "site_url", "root_url", "root_path"),
    [
        ("zh", "https://example.org/", "https://example.org/", "/"),
        ("en", "https://example.org/en/", "https://example.org/", "/"),
        ("zh", "https://example.org/team/runbooks/", "https://example.org/team/runbooks/", "/team/runbooks/"),
        ("en", "https://example.org/team/runbooks/en/", "https://example.org/team/runbooks/", "/team/runbooks/"),
        ("zh", "http://127.0.0.1:8000", "http://127.0.0.1:8000", "/"),
    ],
)
def test_every_language_knows_where_the_default_language_is_served(real_site, lang, site_url, root_url, root_path):
    run = LanguageRun(real_site, lang, site_url)
    assert run.default == (lang == "zh")
    assert (run.root_url, run.root_path) == (root_url, root_path)


@pytest.mark.parametrize(
    ("theme_language", "audience", "expected"),
    [("zh", None, ("zh", "internal")), ("en", "", ("en", "internal")), ("en", "public", ("en", "public"))],
)
def test_a_build_is_in_the_theme_language_for_the_team_unless_told(theme_language, audience, expected):
    assert language_and_audience(theme_language, audience) == expected


@pytest.mark.parametrize(
    ("theme_language", "audience", "message"),
    [
        ("fr", None, "theme.language is 'fr'; the runbooks are written in zh, en"),
        ("zh", "everyone", "extra.audience (RUNBOOKS_AUDIENCE) is 'everyone'; use one of: internal, public"),
    ],
)
def test_a_language_or_audience_the_runbooks_lack_is_named(theme_language, audience, message):
    with pytest.raises(SettingError) as refused:
        language_and_audience(theme_language, audience)
    assert str(refused.value) == message


def test_only_the_team_site_asks_not_to_be_indexed_and_both_languages_share_the_settings(real_site, public_dataset):
    public = Site.for_audience(public_dataset, "public")
    team_zh = LanguageRun(real_site, "zh", "https://example.org/team/").theme_extra()
    team_en = LanguageRun(real_site, "en", "https://example.org/team/en/").theme_extra()
    assert team_zh["robots"] == team_en["robots"] == "noindex, nofollow"
    assert LanguageRun(public, "en", "https://example.org/en/").theme_extra()["robots"] == ""
    assert team_zh["scope"] == team_en["scope"] == "/team/"
    assert team_zh["made_with"] != team_en["made_with"]
    assert team_en["made_with"] == real_site.labels["footer_made_with"]("en")


def test_the_switcher_leads_to_the_same_page_in_every_language_under_a_sub_path(real_site):
    run = LanguageRun(real_site, "en", "https://example.org/team/en/")
    alternates = [{"lang": "zh", "name": "中文"}, {"lang": "en", "name": "English"}]
    run.point_switcher(alternates)
    assert [a["link"] for a in alternates] == ["/team/", "/team/en/"]
    run.point_switcher(alternates, "providers/openai/")
    assert [a["link"] for a in alternates] == ["/team/providers/openai/", "/team/en/providers/openai/"]
    assert [a["name"] for a in alternates] == ["中文", "English"]


def test_every_page_is_rendered_once_and_kept_for_the_mirrors(real_site):
    run = LanguageRun(real_site, "en", "https://example.org/en/")
    rendered = list(run.render_pages())
    assert [page.path for page in rendered] == [page.path for page in real_site.pages]
    assert run.markdown == {page.path: page.markdown for page in rendered}
    assert all(page.in_nav == real_site.in_nav(ours) for page, ours in zip(rendered, real_site.pages, strict=True))


def test_a_page_that_cannot_be_rendered_is_named_with_its_audience(real_site, monkeypatch):
    def broken(page, site, lang):
        raise RenderError("a template failed")

    monkeypatch.setattr(language_run, "render", broken)
    run = LanguageRun(real_site, "zh", "https://example.org/")
    with pytest.raises(PageError, match=rf"^{real_site.pages[0].path} \(internal site\): a template failed$"):
        list(run.render_pages())


def test_the_default_language_removes_the_sitemaps_the_team_site_must_not_have(real_site, tmp_path):
    for folder in (tmp_path, tmp_path / "en"):
        folder.mkdir(exist_ok=True)
        (folder / "sitemap.xml").write_text("<urlset/>", encoding="utf-8")
    assert LanguageRun(real_site, "en", "https://example.org/en/").finish(tmp_path) == []
    assert (tmp_path / "en" / "sitemap.xml").exists()  # only the default language's build, once all are in
    assert LanguageRun(real_site, "zh", "https://example.org/").finish(tmp_path) == []
    assert not (tmp_path / "sitemap.xml").exists() and not (tmp_path / "en" / "sitemap.xml").exists()
