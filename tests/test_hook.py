"""The MkDocs adapter and the other languages' child builds: serving, repeated builds, failures and clean-up."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from hooks import runbook_pages as hook
from runbooks import engine, languages, publish
from runbooks.language_run import LanguageRun
from runbooks.observe.proxy import free_port

from .conftest import ROOT, SITE_URL
from .factory import valid_data, write_data


def _config(site_dir: Path, **overrides: object):
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    return load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site_dir), strict=True, **overrides)


def test_repeated_builds_in_one_process_pin_no_objects(tmp_path, monkeypatch):
    # `mkdocs serve` rebuilds in one process: nothing may be frozen out of garbage collection for good.
    # The tests' small data set takes the same path through the hook as the real one, in a fraction of the time.
    monkeypatch.setenv("RUNBOOKS_DATA", str(write_data(tmp_path / "input", valid_data())))
    before = gc.get_freeze_count()
    for n in range(3):
        build(_config(tmp_path / f"site-{n}"))
        assert (tmp_path / f"site-{n}" / "en" / "index.html").is_file()
    assert gc.get_freeze_count() == before
    # No work directory is left beside the sites.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input", "site-0", "site-1", "site-2"]


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"theme": {"name": "material", "language": "fr"}}, "theme.language is 'fr'; the runbooks are written in"),
        ({"extra": {"audience": "everyone"}}, "extra.audience (RUNBOOKS_AUDIENCE) is 'everyone'; use one of"),
    ],
    ids=["language", "audience"],
)
def test_a_setting_the_runbooks_lack_stops_the_build_before_anything_is_written(tmp_path, setting, said):
    errors, logger = _Recorded(), logging.getLogger(engine.running() or "mkdocs")  # ProperDocs logs as `properdocs`
    logger.addHandler(errors)
    try:
        with pytest.raises(Abort):
            build(_config(tmp_path / "site", **setting))
    finally:
        logger.removeHandler(errors)
    assert any(said in message for message in errors.messages), errors.messages
    assert list(tmp_path.iterdir()) == []


def test_serve_shows_both_languages_and_leaves_nothing_behind(tmp_path):
    port = free_port()
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


def test_a_stopped_language_build_ends_the_fork_making_its_files_before_its_work_is_removed(tmp_path, monkeypatch):
    # The fork that makes a language's files is that build's child: killing the build must not leave it writing.
    monkeypatch.setattr(languages, "can_fork", lambda: True)  # pytest-xdist's own thread takes no lock a fork needs
    site_dir, files_pid, building = tmp_path / "out" / "site", tmp_path / "files.pid", tmp_path / "building"

    def make_files() -> dict[str, str]:
        files_pid.write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(1)
        (tmp_path / "made").touch()
        return {"late.md": "written after its build was stopped"}

    def build(site: Path) -> int:
        languages.files_beside(site, "en", make_files, fork=True)
        building.touch()
        time.sleep(120)
        return 0

    config = ROOT / "mkdocs.en.yml"
    options = {"site_url": SITE_URL, "data_dir": ROOT / "data", "audience": "internal", "strict": True}
    child = languages.start("en", config_file=config, site_dir=site_dir, **options, fork=build)
    deadline = time.monotonic() + 60
    while not (building.exists() and files_pid.exists()):
        assert child.process.poll() is None and time.monotonic() < deadline, child.output.read_text(encoding="utf-8")
        time.sleep(0.02)
    child.stop()
    assert _ended(int(files_pid.read_text(encoding="utf-8")))
    time.sleep(1.5)  # past the moment the fork would have made its files
    assert not (tmp_path / "made").exists(), "the fork went on after its build was stopped"
    assert not child.work.exists()
    assert list(site_dir.parent.iterdir()) == []


def test_a_failing_default_language_stops_the_others_and_removes_their_work(tmp_path):
    site_dir = tmp_path / "site"
    child = _start_english(site_dir)
    run = LanguageRun(site=None, lang="zh", site_url=SITE_URL, others=[child])  # type: ignore[arg-type]
    hook._BUILDS[id(run)] = run
    hook.on_build_error(RuntimeError("the default language failed"))
    assert child.process.poll() is not None
    assert not child.work.exists()
    assert hook._BUILDS == {}
    assert list(tmp_path.iterdir()) == []


def test_a_failing_default_language_stops_the_fork_making_its_files_and_the_others(tmp_path, monkeypatch):
    # As in a real build, the files are made by a fork started after the other languages: it holds their work too.
    monkeypatch.setattr(languages, "can_fork", lambda: True)
    site_dir = tmp_path / "site"
    child = _start_english(site_dir)
    files = languages.files_beside(site_dir, "zh", lambda: time.sleep(60) or {}, fork=True)
    run = LanguageRun(site=None, lang="zh", site_url=SITE_URL, others=[child], files=files)  # type: ignore[arg-type]
    hook._BUILDS[id(run)] = run
    hook.on_build_error(RuntimeError("the default language failed"))
    assert child.process.poll() is not None and files.process is not None and files.process.poll() is not None
    assert list(tmp_path.iterdir()) == []


def test_the_english_pages_a_fork_builds_are_those_their_own_command_builds(site, tmp_path):
    # The session's site is built by `mkdocs build`, which forks the English build; here it runs as a command.
    site_dir = tmp_path / "site"
    child = _start_english(site_dir)
    assert isinstance(child.process, subprocess.Popen)
    site_dir.mkdir()
    child.finish(site_dir)
    forked = {p.relative_to(site / "en") for p in (site / "en").rglob("*") if p.is_file()}
    spawned = {p.relative_to(site_dir / "en") for p in (site_dir / "en").rglob("*") if p.is_file()}
    assert forked and forked == {p for p in spawned if not p.name.startswith("sitemap.xml")}  # the root's only
    assert [p for p in sorted(forked) if (site / "en" / p).read_bytes() != (site_dir / "en" / p).read_bytes()] == []


def test_no_build_is_forked_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not languages.can_fork()
    finally:
        stop.set()
        other.join()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_warning_fails_the_strict_build_of_each_language(tmp_path, lang, monkeypatch):
    # MkDocs' --quiet alone would let a strict build pass whatever it warned about.
    project = _project_warning_in(tmp_path, lang, monkeypatch)
    site_dir = tmp_path / "out" / "site"
    failed = publish.build_site(site_dir, ROOT / "data", config_file=project / "mkdocs.yml", site_url=SITE_URL)
    assert failed is not None and failed.reason == "build_failed"
    assert "stray.md" in failed.message and "strict mode" in failed.message
    assert ("the en build failed" in failed.message) == (lang == "en")


def test_a_build_that_is_not_strict_shows_the_other_languages_warnings(tmp_path, monkeypatch):
    project = _project_warning_in(tmp_path, "en", monkeypatch)
    with (project / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("\nstrict: false\n")
    env = {**os.environ, "RUNBOOKS_DATA": str(ROOT / "data"), "NO_MKDOCS_2_WARNING": "1"}
    command = engine.command("build", *engine.config_args(project / "mkdocs.yml"), "--site-dir", str(tmp_path / "site"))
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stderr.splitlines() if "en build:" in line]
    assert any("en build: WARNING" in line for line in shown), result.stderr
    assert any("stray.md" in line for line in shown)
    assert not any("en build: INFO" in line for line in shown), result.stderr
    # Started as a command of its own, the English build prints the same: warnings, no progress lines.
    child = languages.start(
        "en",
        config_file=project / "mkdocs.en.yml",
        site_dir=tmp_path / "own" / "site",
        site_url=SITE_URL,
        data_dir=ROOT / "data",
        audience="internal",
        strict=False,
    )
    child.finish(_mkdir(tmp_path / "own" / "site"))
    assert any(line.startswith("WARNING") for line in child.messages())
    assert any("stray.md" in line for line in child.messages())
    assert not any(line.startswith("INFO") for line in child.messages())


def _project_warning_in(tmp_path: Path, lang: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project whose build warns, in `lang` only, about a page the navigation leaves out."""
    project = _mkdir(tmp_path / "project")
    for name in ("mkdocs.yml", "mkdocs.en.yml"):
        shutil.copy(ROOT / name, project / name)
    for folder in ("docs", "overrides", "hooks"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for watched in ("data", "runbooks"):  # what `watch` names
        (project / watched).symlink_to(ROOT / watched)
    (project / "docs" / "stray.md").write_text("# A page no navigation lists\n", encoding="utf-8")
    # The other language merely notes the page.
    quiet = "mkdocs.en.yml" if lang == "zh" else "mkdocs.yml"
    with (project / quiet).open("a", encoding="utf-8") as config:
        config.write("\nvalidation:\n  nav:\n    omitted_files: info\n")
    if lang == "en":
        with (project / "mkdocs.en.yml").open("a", encoding="utf-8") as config:
            config.write("\nvalidation:\n  nav:\n    omitted_files: warn\n")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return project


def _start_english(site_dir: Path) -> languages.LanguageBuild:
    """The English build of the real data for `site_dir`, as its own command (no fork is asked for)."""
    return languages.start(
        "en",
        config_file=ROOT / "mkdocs.en.yml",
        site_dir=site_dir,
        site_url=SITE_URL,
        data_dir=ROOT / "data",
        audience="internal",
        strict=True,
    )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


class _Recorded(logging.Handler):
    """What MkDocs logged at ERROR or above."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _ended(pid: int) -> bool:
    """Whether process `pid` is gone (or a zombie nobody has reaped yet: it runs no more)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}
