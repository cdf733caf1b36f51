"""MkDocs adapter: adds the rendered runbook pages to a build, one language per build."""

from __future__ import annotations

import functools
import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import jinja2
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException, PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from runbooks import answers, engine, handover, languages, output, search_words
from runbooks.audience import AUDIENCES, DEFAULT_SITE_URL
from runbooks.bytecode import bytecode_cache
from runbooks.findings import FindingsError
from runbooks.loader import load
from runbooks.render import RenderError, render
from runbooks.schema import LANGUAGES
from runbooks.site import Site
from runbooks.visibility import WithheldError

log = logging.getLogger("mkdocs.hooks.runbook_pages")

# -------------------------------------------------------------------------------------------------
# Hooks
# -------------------------------------------------------------------------------------------------


def on_startup(*, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
    """Note whether this process builds once and exits (`mkdocs build`), or rebuilds on every edit (`serve`)."""
    _PROCESS.one_shot = command != "serve"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Load the data, derive the site once for this build, take the navigation from it, start the other languages."""
    # The search plugin segments Chinese with jieba, which logs its dictionary loading at INFO to stderr.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    lang = _language(config)
    audience = config.extra.get("audience") or "internal"
    if audience not in AUDIENCES:
        raise PluginError(f"extra.audience (RUNBOOKS_AUDIENCE) is '{audience}'; use one of: {', '.join(AUDIENCES)}")
    config.site_url = config.site_url or DEFAULT_SITE_URL
    _log_warnings(config, lang)
    data_dir = (_root(config) / config.extra.get("data_dir", "data")).resolve()
    fork = lang == LANGUAGES[0] and _PROCESS.one_shot and languages.can_fork()
    # Before the data: what the search needs loads while the command that started this build derives the site.
    words = _search_words(config, before_fork=fork)
    site = _PROCESS.handed_over.get((data_dir, audience)) or handover.receive(data_dir, audience)
    if site is None:
        try:
            site = Site.for_audience(load(data_dir, display_root=_root(config)), audience)
        except (FindingsError, WithheldError) as exc:
            raise PluginError("the runbook data is invalid:\n" + str(exc)) from None
    # The team's site must not be indexed even if it is exposed by mistake.
    config.extra["robots"] = "noindex, nofollow" if audience == "internal" else ""
    if _PROCESS.one_shot:
        # The data lives as long as this process: keep its objects out of every garbage collection from here on.
        gc.freeze()
    run = _BUILDS[id(config)] = _Build(site, lang, _site_url(config, lang), words)
    config.nav = site.nav(lang)
    _set_languages(config, site, lang)
    if lang == LANGUAGES[0]:
        handed_over = {(data_dir, audience): site}
        for other in LANGUAGES[1:]:
            config_file = _root(config) / f"mkdocs.{other}.yml"
            forked = functools.partial(_build_forked, config_file, bool(config.strict), handed_over) if fork else None
            run.others.append(
                languages.start(
                    other,
                    config_file=config_file,
                    site_dir=Path(config.site_dir),
                    site_url=config.site_url,
                    data_dir=data_dir,
                    audience=audience,
                    strict=bool(config.strict),
                    fork=forked,
                )
            )
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add one generated Markdown file per runbook page, rendered in this build's language."""
    run = _BUILDS[id(config)]
    for page in run.site.pages:
        try:
            content = run.markdown[page.path] = render(page, run.site, run.lang)
        except (WithheldError, RenderError) as exc:
            raise PluginError(f"{page.path} ({run.site.audience} site): {exc}") from None
        # Pages the navigation leaves out on purpose (a large site's provider pages) are no omission to warn about.
        inclusion = InclusionLevel.UNDEFINED if run.site.in_nav(page) else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, page.path, content=content, inclusion=inclusion))
    # The files for answer engines are made meanwhile, from the Markdown just rendered.
    make = functools.partial(_answer_files, run, config.site_name)
    run.files = languages.files_beside(Path(config.site_dir), run.lang, make, fork=_PROCESS.one_shot)
    return files


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    """Point the language switcher at this page in every language; add its JSON-LD."""
    run = _BUILDS[id(config)]
    # Absolute paths: MkDocs' `url` filter cannot express a relative link that leaves the build's root.
    root = _site_root(config, run.lang)
    for alternate in config.extra.get("alternate", []):
        alternate["link"] = root + _language_prefix(alternate["lang"]) + page.url
    ours = run.site.page_at(page.file.src_uri)
    if ours is not None:
        jsonld = answers.faq_jsonld(ours, run.site, run.lang, run.site_url)
        if jsonld is not None:
            page.meta["jsonld"] = answers.script_json(jsonld)
    return context


def on_env(env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
    """Keep the theme's compiled templates: MkDocs makes a new Jinja environment, and compiles them, for every build."""
    env.bytecode_cache = bytecode_cache()
    return env


def on_post_build(config: MkDocsConfig) -> None:
    """Put the files for answer engines in place; in the default language, the other languages too."""
    run = _BUILDS.pop(id(config))
    site_dir = Path(config.site_dir)
    if run.words is not None:
        run.words.save()
    try:
        if run.files is not None:
            run.files.finish(site_dir)
        if run.lang != LANGUAGES[0]:
            return
        for child in run.others:
            child.finish(site_dir)
            for line in child.messages():
                log.warning("%s build: %s", child.lang, line)
    except languages.LanguageBuildError as exc:
        raise PluginError(str(exc)) from None
    finally:
        _stop(run)
    output.remove_language_sitemaps(site_dir, LANGUAGES[1:], keep_root=run.site.audience == "public")


def on_build_error(error: Exception) -> None:
    """Stop the other languages' builds when the default language's build fails."""
    for run in list(_BUILDS.values()):
        _stop(run)
    _BUILDS.clear()


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def _build_forked(config_file: Path, strict: bool, handed_over: dict[tuple[Path, str], Site], site_dir: Path) -> int:
    """In a fork of the default language's build: build `config_file` as `mkdocs build` would, with its site."""
    _BUILDS.clear()  # the default language's build belongs to the parent
    _PROCESS.handed_over = handed_over
    try:
        config = load_config(str(config_file), site_dir=str(site_dir), strict=strict)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
    except MkDocsException as exc:  # printed as MkDocs' command line prints it
        exc.show()
        return 1
    return 0


def _log_warnings(config: MkDocsConfig, lang: str) -> None:
    """Let MkDocs' warnings through in a strict build, even a quiet one, and in every other language's build.

    MkDocs' `--quiet` raises its logger to ERROR, and strict mode counts only the warnings that logger
    lets through: `mkdocs build --strict --quiet` would pass whatever it warned about. A strict build
    shows warnings then, since each of them fails it. The other languages' builds, started quiet or
    forked from a build that shows everything, print warnings and errors only: the default language's
    build shows what they printed as warnings.
    """
    mkdocs_log = logging.getLogger(engine.running() or "mkdocs")  # ProperDocs logs as `properdocs`
    if lang != LANGUAGES[0] or (config.strict and mkdocs_log.getEffectiveLevel() > logging.WARNING):
        mkdocs_log.setLevel(logging.WARNING)


def _search_words(config: MkDocsConfig, *, before_fork: bool) -> search_words.RememberedCut | None:
    """Remember the words the search makes of Chinese text; before forking, load the dictionary the forks will need.

    Material's search segments Chinese text with jieba in every language (the English pages name
    Chinese things too). With words remembered from earlier builds, a build may never need jieba's
    dictionary; without any, every language's build needs it, and each fork starts with it loaded.
    """
    options = next((p.config for name, p in config.plugins.items() if name.rpartition("/")[2] == "search"), None)
    if options is None:
        return None
    words = search_words.install(options)
    if before_fork and (words is None or not words.remembers_any()):
        search_words.load_dictionary()
    return words


def _language(config: MkDocsConfig) -> str:
    lang = config.theme["language"]
    if lang not in LANGUAGES:
        raise PluginError(f"theme.language is '{lang}'; the runbooks are written in {', '.join(LANGUAGES)}")
    return lang


def _set_languages(config: MkDocsConfig, site: Site, lang: str) -> None:
    """The language switcher, the reader's settings and the footer for a build in `lang`.

    Until a page points the switcher at itself (`on_page_context`), its links lead to each
    language's home under the site's own path, so pages built before any other (404.html) work
    under a sub-path too. The theme keeps settings such as the colour scheme per `extra.scope`:
    the default language's root, so both languages share them. The footer is in the build's language.
    """
    root = _site_root(config, lang)
    for alternate in config.extra.get("alternate", []):
        alternate["link"] = root + _language_prefix(alternate["lang"])
    config.extra["scope"] = root
    config.extra["made_with"] = site.labels["footer_made_with"](lang)


def _language_prefix(lang: str) -> str:
    return "" if lang == LANGUAGES[0] else f"{lang}/"


def _stop(run: _Build) -> None:
    for child in run.others:
        child.stop()
    run.others.clear()
    if run.files is not None:
        run.files.stop()


def _answer_files(run: _Build, title: str) -> dict[str, str | bytes]:
    """The files a build in `run.lang` adds beside its pages; the default language's build adds the site-wide ones."""
    files: dict[str, str | bytes] = {}
    files.update(answers.language_files(run.site, run.lang, run.site_url, run.markdown, title=title))
    if run.lang == LANGUAGES[0]:
        files.update(answers.site_files(run.site, run.site_url))
    return files


def _site_url(config: MkDocsConfig, lang: str) -> str:
    """The absolute URL of the default language's root, seen from a build in `lang`."""
    return config.site_url if lang == LANGUAGES[0] else config.site_url.removesuffix(f"{lang}/")


def _site_root(config: MkDocsConfig, lang: str) -> str:
    """The URL path the default language is served at, seen from a build in `lang`."""
    path = urlsplit(config.site_url).path or "/"
    return path if lang == LANGUAGES[0] else path.removesuffix(f"{lang}/")


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


# -------------------------------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------------------------------


@dataclass
class _Build:
    site: Site
    lang: str
    site_url: str
    words: search_words.RememberedCut | None = None
    others: list[languages.LanguageBuild] = field(default_factory=list)
    markdown: dict[str, str] = field(default_factory=dict)
    files: languages.BuildFiles | None = None


@dataclass
class _Process:
    one_shot: bool = False
    handed_over: dict[tuple[Path, str], Site] = field(default_factory=dict)
    """In a forked language build: the site its parent derived, by data directory and audience."""


_PROCESS = _Process()


# MkDocs keeps one instance of a hook module for every config it loads, so what a build needs is kept
# per config object, from on_config to on_post_build.
_BUILDS: dict[int, _Build] = {}
