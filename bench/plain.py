"""The benchmark's baseline: the same rendered pages built by plain MkDocs, without the runbook hooks.

`prepare` renders every page of a data set in every language to Markdown files (untimed), and
`python bench/plain.py SPEC` then builds them the way our build does (same mkdocs.yml and
mkdocs.en.yml: theme, features, Markdown extensions, search and navigation), with `hooks: []`, the
default language at the site root and every other language under its own subdirectory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent


def prepare(data_dir: Path, work: Path, site_dir: Path, site_url: str) -> Path:
    """Render the pages of `data_dir` into `work`/<lang>/ and write the build spec; return the spec's path."""
    from runbooks.loader import load
    from runbooks.render import load_labels, nav, pages, render
    from runbooks.schema import LANGUAGES

    dataset = load(data_dir)
    labels = load_labels()
    builds: list[dict[str, Any]] = []
    for lang in LANGUAGES:
        docs = work / lang
        shutil.copytree(ROOT / "docs", docs, dirs_exist_ok=True)
        for page in pages(dataset, labels):
            target = docs / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(page, dataset, lang, labels), encoding="utf-8")
        default = lang == LANGUAGES[0]
        builds.append(
            {
                "config_file": str(ROOT / ("mkdocs.yml" if default else f"mkdocs.{lang}.yml")),
                "docs_dir": str(docs),
                "site_dir": str(site_dir if default else site_dir / lang),
                "work_dir": str(site_dir.parent / f".{site_dir.name}-{lang}"),
                "site_url": site_url if default else urljoin(site_url, f"{lang}/"),
                "nav": nav(dataset, lang, labels),
            }
        )
    from hooks.runbook_pages import PARALLEL_MIN_PAGES

    parallel = len(pages(dataset, labels)) >= PARALLEL_MIN_PAGES
    spec = work / "plain-build.json"
    spec.write_text(json.dumps({"parallel": parallel, "builds": builds}, ensure_ascii=False), encoding="utf-8")
    return spec


def build(spec: Path, only: int | None = None) -> None:
    """Build the languages of a spec written by `prepare` the way our build does.

    The default language is built in this process; the others after it in this process too, or, when
    our build would build them in processes of their own (hooks/runbook_pages.py, PARALLEL_MIN_PAGES),
    in parallel child processes started first.
    """
    plan = json.loads(spec.read_text(encoding="utf-8"))
    builds = plan["builds"]
    if only is not None:
        _build_one({**builds[only], "site_dir": builds[only]["work_dir"]})
        return
    if not plan["parallel"]:
        for entry in builds:
            _build_one(entry)
        return
    # As ours: each other language into a directory beside the site (the default build cleans the site
    # directory when it starts), moved into place when both are done.
    here = Path(__file__).resolve()
    children = [subprocess.Popen([sys.executable, str(here), str(spec), str(n)]) for n in range(1, len(builds))]
    _build_one(builds[0])
    if any(child.wait() != 0 for child in children):
        raise SystemExit("a language's plain build failed")
    for entry in builds[1:]:
        Path(entry["work_dir"]).rename(entry["site_dir"])


def _build_one(entry: dict[str, Any]) -> None:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(
        entry["config_file"],
        hooks=[],
        docs_dir=entry["docs_dir"],
        site_dir=entry["site_dir"],
        site_url=entry["site_url"],
        nav=entry["nav"],
        strict=False,
    )
    mkdocs_build(config)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
