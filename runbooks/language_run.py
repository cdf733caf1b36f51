"""One language's build of a site as the MkDocs adapter drives it: its pages, its URLs, the other languages, its files.

Nothing here imports MkDocs. The hook (hooks/runbook_pages.py) passes plain values in, at each of
MkDocs' events, and turns what comes back into MkDocs' files and errors; another engine's adapter
would drive the same steps.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from runbooks import answers, handover, languages, output, search_words
from runbooks.audience import AUDIENCES
from runbooks.loader import load
from runbooks.render import RenderError, render
from runbooks.schema import LANGUAGES
from runbooks.site import Site
from runbooks.visibility import WithheldError


class SettingError(ValueError):
    """A setting of the build's config the runbooks cannot be built with; the message names the setting."""


class PageError(Exception):
    """A page could not be rendered for this audience; the message names the page and says why."""


@dataclass(frozen=True)
class Rendered:
    """A page's Markdown in the build's language, and whether the navigation lists it."""

    path: str
    markdown: str
    in_nav: bool


def language_and_audience(theme_language: str, audience: str | None) -> tuple[str, str]:
    """The build's language (the theme's) and audience (`internal` unless set); SettingError for any other."""
    if theme_language not in LANGUAGES:
        raise SettingError(f"theme.language is '{theme_language}'; the runbooks are written in {', '.join(LANGUAGES)}")
    audience = audience or "internal"
    if audience not in AUDIENCES:
        raise SettingError(f"extra.audience (RUNBOOKS_AUDIENCE) is '{audience}'; use one of: {', '.join(AUDIENCES)}")
    return theme_language, audience


def site_for(data_dir: Path, audience: str, *, display_root: Path, handed_over: dict[tuple[Path, str], Site]) -> Site:
    """The site this build is for: the one its parent build or its command handed over, else read from the data.

    Raises FindingsError for data that cannot be read, WithheldError where the audience's view lacks a fact.
    """
    site = handed_over.get((data_dir, audience)) or handover.receive(data_dir, audience)
    return site or Site.for_audience(load(data_dir, display_root=display_root), audience)


def language_prefix(lang: str) -> str:
    """Where `lang`'s pages are served under the site's root: nothing for the default language, else `<lang>/`."""
    return "" if lang == LANGUAGES[0] else f"{lang}/"


@dataclass
class LanguageRun:
    """What a build in `lang` adds to MkDocs' work, from its config to its end.

    `site_url` is the build's own: the default language's build is served at the site's URL, every
    other language's at `<site URL><lang>/`.
    """

    site: Site
    lang: str
    site_url: str
    words: search_words.RememberedCut | None = None
    others: list[languages.LanguageBuild] = field(default_factory=list)
    markdown: dict[str, str] = field(default_factory=dict)
    files: languages.BuildFiles | None = None

    @property
    def default(self) -> bool:
        """Whether this is the default language's build, which builds the others and adds the site-wide files."""
        return self.lang == LANGUAGES[0]

    @property
    def root_url(self) -> str:
        """The absolute URL of the default language's root."""
        return self.site_url if self.default else self.site_url.removesuffix(f"{self.lang}/")

    @property
    def root_path(self) -> str:
        """The URL path the default language is served at."""
        path = urlsplit(self.site_url).path or "/"
        return path if self.default else path.removesuffix(f"{self.lang}/")

    def theme_extra(self) -> dict[str, str]:
        """What the theme's templates read from `extra` in this build: robots, the settings' scope, the footer."""
        return {
            # The team's site must not be indexed even if it is exposed by mistake.
            "robots": "noindex, nofollow" if self.site.audience == "internal" else "",
            # The theme keeps settings such as the colour scheme per scope: the default language's root, for both.
            "scope": self.root_path,
            "made_with": self.site.labels["footer_made_with"](self.lang),
        }

    def point_switcher(self, alternates: list[dict[str, str]], page_url: str = "") -> None:
        """Point each language of the switcher at `page_url` in that language (each language's home by default).

        Absolute paths: pages built before any other (404.html) and pages under a sub-path link right.
        """
        for alternate in alternates:
            alternate["link"] = self.root_path + language_prefix(alternate["lang"]) + page_url

    def start_others(
        self,
        *,
        config_dir: Path,
        site_dir: Path,
        data_dir: Path,
        strict: bool,
        fork: languages.ForkedBuild | None,
    ) -> None:
        """In the default language's build: start every other language's, from `mkdocs.<lang>.yml` in `config_dir`.

        `fork` (given the language's config file) builds it in a fork of this process where it may fork.
        """
        for other in LANGUAGES[1:]:
            config_file = config_dir / f"mkdocs.{other}.yml"
            build = languages.start(
                other,
                config_file=config_file,
                site_dir=site_dir,
                site_url=self.site_url,
                data_dir=data_dir,
                audience=self.site.audience,
                strict=strict,
                fork=functools.partial(fork, config_file) if fork else None,
            )
            self.others.append(build)

    def render_pages(self) -> Iterator[Rendered]:
        """Every page of the site in this language (kept for the mirrors); PageError for one that cannot be."""
        for page in self.site.pages:
            try:
                markdown = self.markdown[page.path] = render(page, self.site, self.lang)
            except (WithheldError, RenderError) as exc:
                raise PageError(f"{page.path} ({self.site.audience} site): {exc}") from None
            # Pages the navigation leaves out on purpose (a large site's provider pages) are no omission.
            yield Rendered(page.path, markdown, self.site.in_nav(page))

    def start_files(self, site_dir: Path, title: str, *, fork: bool) -> None:
        """Start making the files for answer engines from the rendered Markdown (in a fork where `fork`)."""
        make = functools.partial(self._files, title)
        self.files = languages.files_beside(site_dir, self.lang, make, fork=fork)

    def jsonld(self, src_uri: str) -> str | None:
        """The FAQPage JSON-LD script of the page at `src_uri`, if it is one of ours and answers questions."""
        ours = self.site.page_at(src_uri)
        jsonld = None if ours is None else answers.faq_jsonld(ours, self.site, self.lang, self.root_url)
        return None if jsonld is None else answers.script_json(jsonld)

    def finish(self, site_dir: Path) -> list[str]:
        """Once MkDocs has written the pages: everything else in place; what the other languages warned about.

        Raises LanguageBuildError when another language's build, or the making of the files, failed.
        """
        if self.words is not None:
            self.words.save()
        warnings = []
        try:
            if self.files is not None:
                self.files.finish(site_dir)
            for child in self.others:  # only the default language's build starts others
                child.finish(site_dir)
                warnings += [f"{child.lang} build: {line}" for line in child.messages()]
        finally:
            self.stop()
        if self.default:
            output.remove_language_sitemaps(site_dir, LANGUAGES[1:], keep_root=self.site.audience == "public")
        return warnings

    def stop(self) -> None:
        """Stop whatever still runs for this build: the making of the files, then the other languages' builds.

        In that order: the fork that makes the files holds the other languages' work directories too (a
        fork keeps every descriptor), and each is removed once no other process holds it.
        """
        if self.files is not None:
            self.files.stop()
        for child in self.others:
            child.stop()
        self.others.clear()

    def _files(self, title: str) -> dict[str, str | bytes]:
        """The files this build adds beside its pages; the default language's build adds the site-wide ones."""
        files: dict[str, str | bytes] = {}
        files.update(answers.language_files(self.site, self.lang, self.root_url, self.markdown, title=title))
        if self.default:
            files.update(answers.site_files(self.site, self.root_url))
        return files
