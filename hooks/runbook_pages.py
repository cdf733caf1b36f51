"""MkDocs adapter: adds the rendered runbook pages to a build, one language per build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from runbooks.loader import DataError, Dataset, load
from runbooks.render import Labels, load_labels, nav, pages, render
from runbooks.schema import LANGUAGES

# -------------------------------------------------------------------------------------------------
# Hooks
# -------------------------------------------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Load the data once per build and take the navigation from it."""
    lang = _language(config)
    try:
        dataset = load(_root(config) / config.extra.get("data_dir", "data"), display_root=_root(config))
        labels = load_labels()
    except DataError as exc:
        raise PluginError("the runbook data is invalid:\n" + str(exc)) from None
    _BUILDS[id(config)] = _Build(dataset, labels, lang)
    config.nav = nav(dataset, lang, labels)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add one generated Markdown file per runbook page, rendered in this build's language."""
    run = _BUILDS[id(config)]
    for page in pages(run.dataset, run.labels):
        content = render(page, run.dataset, run.lang, run.labels)
        files.append(File.generated(config, page.path, content=content))
    return files


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    """Point the language switcher at this same page in every language."""
    # Absolute paths: MkDocs' `url` filter cannot express a relative link that leaves the build's root.
    root = _site_root(config, _BUILDS[id(config)].lang)
    for alternate in config.extra.get("alternate", []):
        prefix = "" if alternate["lang"] == LANGUAGES[0] else f"{alternate['lang']}/"
        alternate["link"] = root + prefix + page.url
    return context


def on_post_build(config: MkDocsConfig) -> None:
    """After the default language, build every other language into its own subdirectory."""
    if _BUILDS.pop(id(config)).lang != LANGUAGES[0]:
        return
    for lang in LANGUAGES[1:]:
        overrides = {
            "site_dir": str(Path(config.site_dir) / lang),
            "site_url": urljoin(config.site_url or "/", f"{lang}/"),
            "strict": config.strict,
        }
        build(load_config(str(_root(config) / f"mkdocs.{lang}.yml"), **overrides))


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def _language(config: MkDocsConfig) -> str:
    lang = config.theme["language"]
    if lang not in LANGUAGES:
        raise PluginError(f"theme.language is '{lang}'; the runbooks are written in {', '.join(LANGUAGES)}")
    return lang


def _site_root(config: MkDocsConfig, lang: str) -> str:
    """The URL path the default language is served at, seen from a build in `lang`."""
    path = urlsplit(config.site_url or "/").path or "/"
    return path if lang == LANGUAGES[0] else path.removesuffix(f"{lang}/")


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


# -------------------------------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Build:
    dataset: Dataset
    labels: Labels
    lang: str


# MkDocs keeps one instance of a hook module for every config it loads (the languages' builds nest),
# so what a build needs is kept per config object, from on_config to on_post_build.
_BUILDS: dict[int, _Build] = {}
