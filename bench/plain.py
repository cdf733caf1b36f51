"""The baseline: the pages our build renders, built by plain MkDocs with the same configs and no hooks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent


def prepare(data_dir: Path, work: Path, site_dir: Path, site_url: str) -> Path:
    """Render the pages of `data_dir` into `work`/<lang>/ and write the build spec; return the spec's path."""
    from runbooks.loader import load
    from runbooks.render import render
    from runbooks.schema import LANGUAGES
    from runbooks.site import Site

    # The team's internal site, as `make site` builds it.
    site = Site.of(load(data_dir), audience="internal")
    builds: list[dict[str, Any]] = []
    for lang in LANGUAGES:
        docs = work / lang
        shutil.copytree(ROOT / "docs", docs, dirs_exist_ok=True)
        for page in site.pages:
            target = docs / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(page, site, lang), encoding="utf-8")
        default = lang == LANGUAGES[0]
        builds.append(
            {
                "config_file": str(ROOT / ("mkdocs.yml" if default else f"mkdocs.{lang}.yml")),
                "docs_dir": str(docs),
                "site_dir": str(site_dir if default else site_dir / lang),
                "work_dir": str(site_dir.parent / f".{site_dir.name}-{lang}"),
                "site_url": site_url if default else urljoin(site_url, f"{lang}/"),
                "nav": site.nav(lang),
                # What the hook puts into `extra` and the theme's templates read: the footer's credit in the
                # page's language, and where the reader's settings are kept.
                "extra": {"made_with": site.labels["footer_made_with"](lang), "scope": urlsplit(site_url).path or "/"},
            }
        )
    spec = work / "plain-build.json"
    spec.write_text(json.dumps({"pages": len(site.pages), "builds": builds}, ensure_ascii=False), encoding="utf-8")
    return spec


def page_count(spec: Path) -> int:
    """How many pages per language `spec` builds."""
    return json.loads(spec.read_text(encoding="utf-8"))["pages"]


def clean(spec: Path) -> None:
    """Remove what a build of `spec` wrote, so that the next one starts from nothing as ours does."""
    for entry in json.loads(spec.read_text(encoding="utf-8"))["builds"]:
        for folder in (entry["site_dir"], entry["work_dir"]):
            shutil.rmtree(folder, ignore_errors=True)


def build(spec: Path, only: int | None = None) -> None:
    """Build every language of `spec` as our build does: the default one here, each other one in a child process.

    With `only`, build just that language, into its directory beside the site (what a child does).
    """
    builds = json.loads(spec.read_text(encoding="utf-8"))["builds"]
    if only is not None:
        _build_one({**builds[only], "site_dir": builds[only]["work_dir"]})
        return
    # Each other language builds beside the site, since the default language's build empties the site
    # directory when it starts; it is moved into place once every build is done.
    here = Path(__file__).resolve()
    children = [subprocess.Popen([sys.executable, str(here), str(spec), str(n)]) for n in range(1, len(builds))]
    _build_one(builds[0])
    if any([child.wait() != 0 for child in children]):  # a list: wait for every child, not just the first failure
        raise SystemExit("a language's plain build failed")
    for entry in builds[1:]:
        Path(entry["work_dir"]).rename(entry["site_dir"])


def _build_one(entry: dict[str, Any]) -> None:
    from runbooks import engine

    engine.alias_mkdocs_imports()  # with ProperDocs as the engine, `mkdocs.*` is ProperDocs
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
    config.extra.update(entry["extra"])
    mkdocs_build(config)


if __name__ == "__main__":
    import logging

    if str(ROOT) not in sys.path:  # a child of `build`, run as `python bench/plain.py`: runbooks is beside bench/
        sys.path.insert(0, str(ROOT))

    logging.basicConfig(level=logging.ERROR)
    build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
