"""MkDocs adapter: adds the rendered runbook pages to a build, one language per build (runbooks/language_run.py)."""

from __future__ import annotations

import functools
import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import jinja2
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException, PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from runbooks import engine, languages, search_words
from runbooks.audience import DEFAULT_SITE_URL
from runbooks.bytecode import bytecode_cache
from runbooks.findings import FindingsError
from runbooks.language_run import LanguageRun, PageError, SettingError, language_and_audience, site_for
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
    """Take this build's site (handed over, or read from the data), its navigation; start the other languages."""
    # The search plugin segments Chinese with jieba, which logs its dictionary loading at INFO to stderr.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    try:
        lang, audience = language_and_audience(config.theme["language"], config.extra.get("audience"))
    except SettingError as exc:
        raise PluginError(str(exc)) from None
    config.site_url = config.site_url or DEFAULT_SITE_URL
    _log_warnings(config, lang)
    root = Path(config.config_file_path).resolve().parent
    data_dir = (root / config.extra.get("data_dir", "data")).resolve()
    fork = lang == LANGUAGES[0] and _PROCESS.one_shot and languages.can_fork()
    # Before the data: what the search needs loads while the command that started this build derives the site.
    words = _search_words(config, before_fork=fork)
    try:
        site = site_for(data_dir, audience, display_root=root, handed_over=_PROCESS.handed_over)
    except (FindingsError, WithheldError) as exc:
        raise PluginError("the runbook data is invalid:\n" + str(exc)) from None
    if _PROCESS.one_shot:
        # The data lives as long as this process: keep its objects out of every garbage collection from here on.
        gc.freeze()
    run = _BUILDS[id(config)] = LanguageRun(site, lang, config.site_url, words)
    config.nav = site.nav(lang)
    config.extra.update(run.theme_extra())
    run.point_switcher(config.extra.get("alternate", []))
    if run.default:
        forked = functools.partial(_build_forked, strict=bool(config.strict), handed_over={(data_dir, audience): site})
        options = {"config_dir": root, "site_dir": Path(config.site_dir), "data_dir": data_dir}
        run.start_others(**options, strict=bool(config.strict), fork=forked if fork else None)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add one generated Markdown file per runbook page, rendered in this build's language."""
    run = _BUILDS[id(config)]
    try:
        for page in run.render_pages():
            inclusion = InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, page.path, content=page.markdown, inclusion=inclusion))
    except PageError as exc:
        raise PluginError(str(exc)) from None
    # The files for answer engines are made meanwhile, from the Markdown just rendered.
    run.start_files(Path(config.site_dir), config.site_name, fork=_PROCESS.one_shot)
    return files


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    """Point the language switcher at this page in every language; add its JSON-LD."""
    run = _BUILDS[id(config)]
    run.point_switcher(config.extra.get("alternate", []), page.url)
    jsonld = run.jsonld(page.file.src_uri)
    if jsonld is not None:
        page.meta["jsonld"] = jsonld
    return context


def on_env(env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
    """Keep the theme's compiled templates: MkDocs makes a new Jinja environment, and compiles them, for every build."""
    env.bytecode_cache = bytecode_cache()
    return env


def on_post_build(config: MkDocsConfig) -> None:
    """Put the files for answer engines in place; in the default language, the other languages too."""
    try:
        warnings = _BUILDS.pop(id(config)).finish(Path(config.site_dir))
    except languages.LanguageBuildError as exc:
        raise PluginError(str(exc)) from None
    for line in warnings:
        log.warning("%s", line)


def on_build_error(error: Exception) -> None:
    """Stop the other languages' builds when the default language's build fails."""
    for run in list(_BUILDS.values()):
        run.stop()
    _BUILDS.clear()


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def _build_forked(config_file: Path, site_dir: Path, *, strict: bool, handed_over: dict[tuple[Path, str], Site]) -> int:
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
    """Show warnings in a strict build, even a quiet one (each fails it), and only those in the other languages.

    Strict mode counts the warnings MkDocs' logger lets through, and `--quiet` lets none. The default
    language's build shows what the others printed as warnings.
    """
    mkdocs_log = logging.getLogger(engine.running() or "mkdocs")  # ProperDocs logs as `properdocs`
    if lang != LANGUAGES[0] or (config.strict and mkdocs_log.getEffectiveLevel() > logging.WARNING):
        mkdocs_log.setLevel(logging.WARNING)


def _search_words(config: MkDocsConfig, *, before_fork: bool) -> search_words.RememberedCut | None:
    """Remember the words the search makes of Chinese text; before forking, load the dictionary the forks need."""
    options = next((p.config for name, p in config.plugins.items() if name.rpartition("/")[2] == "search"), None)
    return None if options is None else search_words.prepare(options, before_fork=before_fork)


@dataclass
class _Process:
    one_shot: bool = False
    handed_over: dict[tuple[Path, str], Site] = field(default_factory=dict)
    """In a forked language build: the site its parent derived, by data directory and audience."""


_PROCESS = _Process()


# MkDocs loads a hook module once per process and calls that one module for every config it loads (a
# forked language build loads its own), so what a build needs is kept per config object, from on_config
# to on_post_build.
_BUILDS: dict[int, LanguageRun] = {}
