"""Write what a build adds beside MkDocs' pages, and remove the sitemaps MkDocs writes where the site has none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path


def write_files(site_dir: Path, files: Mapping[str, str | bytes]) -> None:
    """Write each file at its path under `site_dir`, creating folders as needed (text as UTF-8)."""
    for name, content in files.items():
        path = site_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def remove_language_sitemaps(site_dir: Path, languages: Iterable[str], *, keep_root: bool) -> None:
    """Remove the sitemap MkDocs writes into every language's directory, and the root's unless `keep_root`.

    The public site has one sitemap for every language, written at the root by the build; the
    team's site, which is not for indexing, has none.
    """
    folders = [site_dir / lang for lang in languages] + ([] if keep_root else [site_dir])
    for folder in folders:
        for name in ("sitemap.xml", "sitemap.xml.gz"):
            (folder / name).unlink(missing_ok=True)
