"""MkDocs adapter: adds the rendered runbook pages to a build, one language per build."""

from __future__ import annotations

import gc
import gzip
import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import jinja2
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from runbooks import answers
from runbooks.loader import DataError, Dataset, load_unchanged
from runbooks.render import Labels, RenderError, bytecode_cache, in_nav, load_labels, nav, pages, render
from runbooks.render import Page as RunbookPage
from runbooks.schema import LANGUAGES
from runbooks.visibility import AUDIENCES, WithheldError, public_view

log = logging.getLogger("mkdocs.hooks.runbook_pages")

# -------------------------------------------------------------------------------------------------
# Hooks
# -------------------------------------------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Load the data once per build and take the navigation from it."""
    # The search plugin segments Chinese with jieba, which logs its dictionary loading at INFO to stderr.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    lang = _language(config)
    audience = config.extra.get("audience") or "internal"
    if audience not in AUDIENCES:
        raise PluginError(f"extra.audience (RUNBOOKS_AUDIENCE) is '{audience}'; use one of: {', '.join(AUDIENCES)}")
    try:
        dataset = load_unchanged(_root(config) / config.extra.get("data_dir", "data"), display_root=_root(config))
        labels = load_labels()
        if audience == "public":
            dataset = public_view(dataset)
    except (DataError, WithheldError) as exc:
        raise PluginError("the runbook data is invalid:\n" + str(exc)) from None
    # The team's site must not be indexed even if it is exposed by mistake.
    config.extra["robots"] = "noindex, nofollow" if audience == "internal" else ""
    # The data is a few hundred thousand objects that live as long as the build: leave them out of every
    # garbage collection MkDocs' own allocations trigger from here on (and keep forked children's copies shared).
    gc.freeze()
    site = {page.path: page for page in pages(dataset, labels)}
    run = _Build(dataset, labels, lang, _site_url(config, lang), site, audience)
    _BUILDS[id(config)] = run
    config.nav = nav(dataset, lang, labels)
    if lang == LANGUAGES[0] and len(site) >= PARALLEL_MIN_PAGES:
        run.others = {other: _start_language(config, other) for other in LANGUAGES[1:]}
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add one generated Markdown file per runbook page, rendered in this build's language."""
    run = _BUILDS[id(config)]
    for page in run.pages.values():
        content = run.markdown[page.path] = _render(run, page)
        # Pages the navigation leaves out on purpose (render.is_large) are no omission to warn about.
        inclusion = InclusionLevel.UNDEFINED if in_nav(page, run.dataset) else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, page.path, content=content, inclusion=inclusion))
    return files


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    """Point the language switcher and the hreflang links at this page in every language; add its JSON-LD."""
    run = _BUILDS[id(config)]
    # Absolute paths: MkDocs' `url` filter cannot express a relative link that leaves the build's root.
    root = _site_root(config, run.lang)
    for alternate in config.extra.get("alternate", []):
        prefix = "" if alternate["lang"] == LANGUAGES[0] else f"{alternate['lang']}/"
        alternate["link"] = root + prefix + page.url
    ours = run.pages.get(page.file.src_uri)
    if ours is not None:
        page.meta["hreflang"] = answers.alternates(ours, run.site_url)
        jsonld = answers.faq_jsonld(ours, run.dataset, run.lang, run.site_url)
        if jsonld is not None:
            page.meta["jsonld"] = answers.script_json(jsonld)
    return context


def on_env(env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
    """Keep the theme's compiled templates: MkDocs makes a new Jinja environment, and compiles them, for every build."""
    env.bytecode_cache = bytecode_cache()
    return env


def on_post_build(config: MkDocsConfig) -> None:
    """Write the files for answer engines; after the default language, build every other one into a subdirectory."""
    run = _BUILDS.pop(id(config))
    site_dir = Path(config.site_dir)
    _write_mirrors(run, site_dir)
    if run.audience == "public":
        _write_llms_files(run, site_dir, config.site_name)
    if run.lang != LANGUAGES[0]:
        site_files = os.environ.get(_SITE_FILES_INTO)
        if site_files:  # a forked language build writes the site-wide files while the default one builds
            _write_site_files(run, Path(site_files))
        return
    written = False
    for lang in LANGUAGES[1:]:
        if lang in run.others:
            written |= _finish_language(config, lang, run.others.pop(lang))
        else:
            build(load_config(str(_root(config) / f"mkdocs.{lang}.yml"), **_overrides(config, lang)))
    if not written:
        _write_site_files(run, site_dir)
    # MkDocs writes a sitemap into every language's directory. The public site has one for every language,
    # ours, at the root (written above); the team's site has none.
    for folder in [site_dir / lang for lang in LANGUAGES[1:]] + ([] if run.audience == "public" else [site_dir]):
        for name in ("sitemap.xml", "sitemap.xml.gz"):
            (folder / name).unlink(missing_ok=True)


def on_build_error(error: Exception) -> None:
    """Stop the other languages' builds when the default language's build fails."""
    for run in list(_BUILDS.values()):
        for child in run.others.values():
            child.stop()
        run.others.clear()


# -------------------------------------------------------------------------------------------------
# The other languages in parallel
# -------------------------------------------------------------------------------------------------

PARALLEL_MIN_PAGES = 100
"""From this many pages per language, every other language is built in a process of its own.

The languages' builds share nothing, so on a machine with two or more cores a large site is built
in about the time of one language. The process is a fork of this one, made after the data is loaded,
so it starts with MkDocs imported and the data in memory; a smaller site (the team's real one has a
dozen pages) builds the languages one after the other in this process, which is as fast.
"""

# Run in a fresh interpreter when forking is not safe: build one language from its config (argv[1])
# with the given overrides (JSON in argv[2]).
_CHILD = (
    "import json, sys; from mkdocs.commands.build import build; from mkdocs.config import load_config; "
    "build(load_config(sys.argv[1], **json.loads(sys.argv[2])))"
)


@dataclass
class _Child:
    """A language being built in its own process, into a temporary directory beside the site."""

    process: subprocess.Popen[bytes] | multiprocessing.process.BaseProcess
    work: Path

    def wait(self) -> int:
        """Wait for the build to end; its exit code."""
        if isinstance(self.process, subprocess.Popen):
            return self.process.wait()
        self.process.join()
        return self.process.exitcode or 0

    def stop(self) -> None:
        """Kill the build if it still runs and remove what it wrote."""
        if isinstance(self.process, subprocess.Popen):
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
        else:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        shutil.rmtree(self.work, ignore_errors=True)


def _build_forked(config_file: str, overrides: dict[str, object], output: str, site_files: str | None) -> None:
    """The forked child: build one language, its output (log messages, errors) into `output`.

    With `site_files`, it also writes the site-wide files (robots.txt, sitemap, JSON exports) there, for
    the default language's build to move into place: they depend on no language, and this process has
    the lighter load (the default language's search index segments Chinese).
    """
    with open(output, "wb") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    if site_files:
        os.environ[_SITE_FILES_INTO] = site_files
    build(load_config(config_file, **overrides))


def _overrides(config: MkDocsConfig, lang: str) -> dict[str, object]:
    return {
        "site_dir": str(Path(config.site_dir) / lang),
        "site_url": urljoin(config.site_url or "/", f"{lang}/"),
        "strict": config.strict,
    }


def _start_language(config: MkDocsConfig, lang: str) -> _Child:
    site_dir = Path(config.site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    # Beside the site, so that moving the result into place is a rename; the default build cleans site_dir.
    work = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-{lang}-", dir=site_dir.parent))
    overrides = {**_overrides(config, lang), "site_dir": str(work / "site")}
    config_file = str(_root(config) / f"mkdocs.{lang}.yml")
    if threading.active_count() == 1:  # forking a process that runs other threads (mkdocs serve) is unsafe
        site_files = str(work / "root") if lang == LANGUAGES[1] else None
        forked = multiprocessing.get_context("fork").Process(
            target=_build_forked, args=(config_file, overrides, str(work / "build.log"), site_files)
        )
        forked.start()
        return _Child(forked, work)
    command = [sys.executable, "-c", _CHILD, config_file, json.dumps(overrides)]
    with (work / "build.log").open("wb") as output:
        process = subprocess.Popen(command, cwd=_root(config), stdout=output, stderr=subprocess.STDOUT)
    return _Child(process, work)


def _finish_language(config: MkDocsConfig, lang: str, child: _Child) -> bool:
    """Move a language's finished build into place; whether it brought the site-wide files too."""
    try:
        returncode = child.wait()
        text = (child.work / "build.log").read_text(encoding="utf-8", errors="replace").strip()
        if returncode != 0:
            raise PluginError(f"the {lang} build failed:\n{text}")
        # Its messages, at their level (a strict build of it has already failed on any warning).
        for line in text.splitlines():
            level = logging.WARNING if line.startswith(("WARNING", "ERROR")) else logging.INFO
            log.log(level, "%s build: %s", lang, line)
        target = Path(config.site_dir) / lang
        shutil.rmtree(target, ignore_errors=True)
        (child.work / "site").rename(target)
        site_files = child.work / "root"
        for path in site_files.iterdir() if site_files.is_dir() else ():
            path.replace(Path(config.site_dir) / path.name)
        return site_files.is_dir()
    finally:
        child.stop()


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def _language(config: MkDocsConfig) -> str:
    lang = config.theme["language"]
    if lang not in LANGUAGES:
        raise PluginError(f"theme.language is '{lang}'; the runbooks are written in {', '.join(LANGUAGES)}")
    return lang


def _render(run: _Build, page: RunbookPage) -> str:
    try:
        return render(page, run.dataset, run.lang, run.labels)
    except (WithheldError, RenderError) as exc:
        raise PluginError(f"{page.path} ({run.audience} site): {exc}") from None


def _write_mirrors(run: _Build, site_dir: Path) -> None:
    """A Markdown mirror of every page, at its URL + `.md`."""
    for page in run.pages.values():
        _write(site_dir / answers.mirror_path(page), answers.markdown_mirror(run.markdown[page.path]))


def _write_llms_files(run: _Build, site_dir: Path, title: str) -> None:
    """llms.txt and llms-full.txt in this build's language."""
    args = (run.dataset, run.lang, run.site_url)
    _write(site_dir / "llms.txt", answers.llms_txt(*args, title=title, labels=run.labels))
    _write(site_dir / "llms-full.txt", answers.llms_full_txt(*args, title=title, labels=run.labels))


def _write_site_files(run: _Build, site_dir: Path) -> None:
    """At the site root: robots.txt, one sitemap for every language (public only), the JSON exports."""
    _write(site_dir / "robots.txt", answers.robots_txt(run.site_url, public=run.audience == "public"))
    if run.audience == "public":
        sitemap = answers.sitemap_xml(run.dataset, run.site_url, run.labels)
        _write(site_dir / "sitemap.xml", sitemap)
        (site_dir / "sitemap.xml.gz").write_bytes(gzip.compress(sitemap.encode("utf-8"), mtime=0))
    exports = {
        "providers.json": answers.providers_export(run.dataset, run.site_url, run.labels),
        "faq.json": answers.faq_export(run.dataset, run.site_url, run.labels),
    }
    for name, content in exports.items():
        _write(site_dir / name, json.dumps(content, ensure_ascii=False, indent=2) + "\n")
        schema = answers.json_schema(name, run.site_url)
        _write(site_dir / answers.schema_name(name), json.dumps(schema, ensure_ascii=False, indent=2) + "\n")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _site_url(config: MkDocsConfig, lang: str) -> str:
    """The absolute URL of the default language's root, seen from a build in `lang`."""
    url = config.site_url or "http://127.0.0.1:8000/"
    return url if lang == LANGUAGES[0] else url.removesuffix(f"{lang}/")


def _site_root(config: MkDocsConfig, lang: str) -> str:
    """The URL path the default language is served at, seen from a build in `lang`."""
    path = urlsplit(config.site_url or "/").path or "/"
    return path if lang == LANGUAGES[0] else path.removesuffix(f"{lang}/")


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


# -------------------------------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------------------------------


@dataclass
class _Build:
    dataset: Dataset
    labels: Labels
    lang: str
    site_url: str
    pages: dict[str, RunbookPage]
    audience: str
    others: dict[str, _Child] = field(default_factory=dict)
    markdown: dict[str, str] = field(default_factory=dict)


# Set only in a forked language build that also writes the site-wide files: the directory to write them into.
# An environment variable, because the language's build loads a module of its own for this hook.
_SITE_FILES_INTO = "RUNBOOKS_SITE_FILES_INTO"

# MkDocs keeps one instance of a hook module for every config it loads (the languages' builds nest),
# so what a build needs is kept per config object, from on_config to on_post_build.
_BUILDS: dict[int, _Build] = {}
