"""The MkDocs adapter and the other languages' child builds: serving, repeated builds, failures and clean-up."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from hooks import runbook_pages as hook
from runbooks import engine, languages

from .conftest import ROOT, SITE_URL


def _config(site_dir: Path, **overrides: object):
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    return load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site_dir), strict=True, **overrides)


def test_repeated_builds_in_one_process_pin_no_objects(tmp_path):
    # `mkdocs serve` rebuilds in one process: nothing may be frozen out of garbage collection for good.
    before = gc.get_freeze_count()
    for n in range(3):
        build(_config(tmp_path / f"site-{n}"))
        assert (tmp_path / f"site-{n}" / "en" / "index.html").is_file()
    assert gc.get_freeze_count() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site-0", "site-1", "site-2"]  # no work directory left


def test_serve_shows_both_languages_and_leaves_nothing_behind(tmp_path):
    port = _free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"http://127.0.0.1:{port}/"}
    command = engine.command("serve", *engine.config_args(ROOT / "mkdocs.yml"), "--dev-addr", f"127.0.0.1:{port}")
    command.append("--no-livereload")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # MkDocs says "Serving on …" once the first build (both languages) is in place.
        deadline = time.monotonic() + 90
        while "Serving on" not in log.read_text(encoding="utf-8", errors="replace"):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)
        pages = {}
        for lang, path in (("zh", ""), ("en", "en/")):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=10) as response:
                pages[lang] = response.read().decode("utf-8")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert 'lang="zh"' in pages["zh"] and 'lang="en"' in pages["en"]
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_a_failed_language_build_says_why_and_removes_its_work(tmp_path):
    broken = tmp_path / "mkdocs.en.yml"
    broken.write_text("INHERIT: no-such-file.yml\n", encoding="utf-8")
    site_dir = tmp_path / "out" / "site"
    child = languages.start(
        "en",
        config_file=broken,
        site_dir=site_dir,
        site_url=SITE_URL,
        data_dir=ROOT / "data",
        audience="internal",
        strict=True,
    )
    assert child.work.is_dir() and child.work.parent == site_dir.parent
    with pytest.raises(languages.LanguageBuildError, match=r"(?s)the en build failed:\n.*no-such-file\.yml"):
        child.finish(site_dir)
    assert not child.work.exists()
    assert not (site_dir / "en").exists()


def test_a_failing_default_language_stops_the_others_and_removes_their_work(tmp_path):
    site_dir = tmp_path / "site"
    child = languages.start(
        "en",
        config_file=ROOT / "mkdocs.en.yml",
        site_dir=site_dir,
        site_url=SITE_URL,
        data_dir=ROOT / "data",
        audience="internal",
        strict=True,
    )
    run = hook._Build(site=None, lang="zh", site_url=SITE_URL, others=[child])  # type: ignore[arg-type]
    hook._BUILDS[id(run)] = run
    hook.on_build_error(RuntimeError("the default language failed"))
    assert child.process.poll() is not None
    assert not child.work.exists()
    assert hook._BUILDS == {}
    assert list(tmp_path.iterdir()) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
