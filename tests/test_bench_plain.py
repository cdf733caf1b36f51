"""The benchmark's baseline: plain MkDocs builds the pages our build renders, in every language, without our hooks."""

from __future__ import annotations

from bench import generate, plain
from runbooks.labels import load_labels
from runbooks.loader import load
from runbooks.schema import LANGUAGES
from runbooks.site import Site

from .conftest import SITE_URL


def test_the_baseline_builds_every_page_in_every_language_without_the_hooks(tmp_path):
    data_dir = generate.write(tmp_path / "source", 2)
    site_dir = tmp_path / "site"
    spec = plain.prepare(data_dir, tmp_path / "work", site_dir, SITE_URL)
    site = Site.of(load(data_dir), audience="internal")
    assert plain.page_count(spec) == len(site.pages)

    plain.build(spec)

    credit = load_labels()["footer_made_with"]
    for lang in LANGUAGES:
        root = site_dir if lang == LANGUAGES[0] else site_dir / lang
        for page in site.pages:
            assert (root / page.url / "index.html").is_file(), f"{lang}: {page.url}"
        # The theme's templates get what the hook would give them: the footer's credit in the page's language.
        before, _, _ = credit(lang).partition("{theme}")
        assert before.strip() in (root / "index.html").read_text(encoding="utf-8")
        # Nothing of what only our hooks write: the answer engines' files.
        assert not (root / "llms.txt").exists()

    plain.clean(spec)
    assert not site_dir.exists()
