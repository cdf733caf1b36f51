"""Publishing under faults: killed builds, full and read-only disks, odd targets; the published site is never lost."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runbooks import languages, publish

from .conftest import ROOT
from .factory import valid_data, write_data

TIMEOUT = 180
"""Seconds a build may take here; each takes a few."""


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def digest(root: Path) -> dict[str, str]:
    """Every entry under `root` by its relative path: a file's SHA-256, a link's target, or "dir"."""
    out = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[name] = "link to " + os.readlink(path)
        elif path.is_dir():
            out[name] = "dir"
        else:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def previous_site(site: Path) -> dict[str, str]:
    """A previously published site at `site`, of every kind of entry; its digest."""
    (site / "en" / "providers").mkdir(parents=True)
    (site / "empty").mkdir()
    (site / "index.html").write_text("<html lang=zh>之前的站点</html>", encoding="utf-8")
    (site / "en" / "index.html").write_text("<html lang=en>the previous site</html>", encoding="utf-8")
    (site / "en" / "providers" / "data.bin").write_bytes(bytes(range(256)) * 64)
    (site / "latest").symlink_to("en/index.html")
    return digest(site)


def is_new_site(site: Path) -> bool:
    """Whether `site` holds a whole build of the tests' data in both languages."""
    pages = [site / "index.html", site / "en" / "index.html", site / "providers" / "acme" / "index.html"]
    return all(page.is_file() for page in pages) and 'lang="en"' in pages[1].read_text(encoding="utf-8")


def work_dirs(parent: Path) -> list[str]:
    """What builds leave beside a site: `.site-*` entries."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".site-"))


def build_command(data_dir: Path, site: Path, patch: str = "") -> list[str]:
    """`python -m runbooks build` of `data_dir` into `site`, with `patch` (Python) run first in that process."""
    code = textwrap.dedent(patch) + "\nimport sys\nfrom runbooks.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return [sys.executable, "-c", code, "build", "--data", str(data_dir), "--site-dir", str(site)]


def run_build(data_dir: Path, site: Path, patch: str = "") -> subprocess.CompletedProcess[str]:
    """Run a build to its end, its own process group and every child in it included."""
    with subprocess.Popen(
        build_command(data_dir, site, patch),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
            _wait_for_group(process.pid)
        finally:
            _end_group(process.pid)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _env() -> dict[str, str]:
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}


def _wait_for_group(pgid: int, timeout: float = TIMEOUT) -> None:
    """Wait until no process of the group `pgid` is left (a killed build's child may finish its work first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"the processes of build {pgid} still run after {timeout} s")


def _end_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    """The build failed with exactly one error line and no traceback; that line."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_data(tmp_path / "source", valid_data())


@pytest.fixture
def broken_data(tmp_path: Path) -> Path:
    """Data that fails validation at once: a build with it publishes nothing, but cleans up and recovers."""
    data = valid_data()
    del data["providers"]["providers"]["acme"]["summary"]["en"]  # a missing translation
    return write_data(tmp_path / "broken", data)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of a given size under tmp_path; every mount is undone at the end."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.fail(
                f"this test mounts a tmpfs to make a full or read-only disk and must run as root on Linux: "
                f"mount said {result.stderr.strip()!r}"
            )
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "--lazy", str(point)], capture_output=True, check=False)


# -------------------------------------------------------------------------------------------------
# Killed builds
# -------------------------------------------------------------------------------------------------

KILL = "import os, signal\nimport runbooks.publish as publish\n"

KILLED_AT = {
    # While MkDocs builds: the child is left to finish, holding the work directory's lock.
    "during the build": KILL + "publish.SiteBuild.wait = lambda self: os.kill(os.getpid(), signal.SIGKILL)\n",
    # The build and the gates have passed; nothing has been switched yet.
    "before the switch": KILL + "publish.switch = lambda *args: os.kill(os.getpid(), signal.SIGKILL)\n",
    # The new site is in place; the old one sits in the work directory.
    "right after the switch": KILL
    + """
exchange = publish.exchange
def exchanged(first, second):
    done = exchange(first, second)
    os.kill(os.getpid(), signal.SIGKILL)
publish.exchange = exchanged
""",
    # Half of the old site removed.
    "while removing the old site": KILL
    + """
import pathlib, shutil
rmtree = shutil.rmtree
def removing(path, ignore_errors=False):
    if "/.site-" not in str(path):
        return rmtree(path, ignore_errors=ignore_errors)
    for n, file in enumerate(sorted(p for p in pathlib.Path(path).rglob("*") if p.is_file())):
        if n % 2:
            file.unlink()
    os.kill(os.getpid(), signal.SIGKILL)
shutil.rmtree = removing
""",
}
NEW_AFTER = {"right after the switch", "while removing the old site"}


@pytest.mark.parametrize("moment", KILLED_AT)
def test_a_build_killed_at_any_step_leaves_a_whole_site_and_the_next_build_cleans_up(
    tmp_path, data_dir, broken_data, moment
):
    site = tmp_path / "public" / "site"
    site.parent.mkdir()
    before = previous_site(site)
    killed = run_build(data_dir, site, KILLED_AT[moment])
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert site.is_dir() and not site.is_symlink()
    if moment in NEW_AFTER:
        assert is_new_site(site)
    else:
        assert digest(site) == before, "the previous site changed"
    assert work_dirs(site.parent), "the killed build left its work directory (this test would prove nothing)"
    # The next build, even one that publishes nothing, removes what the killed one left.
    after = digest(site)
    one_error(run_build(broken_data, site))
    assert work_dirs(site.parent) == []
    assert digest(site) == after


def test_a_two_rename_switch_cut_short_is_put_back_by_the_next_build(tmp_path, data_dir, broken_data):
    """Where directories cannot be exchanged, the old site waits in the work directory: the next run restores it."""
    site = tmp_path / "site"
    before = previous_site(site)
    patch = (
        KILL
        + """
switch = publish.switch
def cut_short(*args):
    renames, rename = [], os.rename
    def counted(source, destination):
        renames.append(destination)
        if len(renames) == 2:  # the old site is out of the way, the new one not yet in
            os.kill(os.getpid(), signal.SIGKILL)
        rename(source, destination)
    os.rename = counted
    switch(*args)
publish.exchange = lambda first, second: False
publish.switch = cut_short
"""
    )
    assert run_build(data_dir, site, patch).returncode == -signal.SIGKILL
    assert not site.exists(), "the fault this test is about did not happen"
    one_error(run_build(broken_data, site))
    assert digest(site) == before
    assert work_dirs(tmp_path) == []


@pytest.mark.parametrize("delay", [0.5, 2.0])
def test_a_build_killed_at_a_random_moment_never_loses_the_site(tmp_path, data_dir, broken_data, delay):
    site = tmp_path / "site"
    before = previous_site(site)
    with subprocess.Popen(
        build_command(data_dir, site), cwd=ROOT, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL
    ) as process:
        try:
            time.sleep(delay)
            process.kill()
            process.wait(timeout=TIMEOUT)
            _wait_for_group(process.pid)
        finally:
            _end_group(process.pid)
    assert site.is_dir()
    assert digest(site) == before or is_new_site(site)
    one_error(run_build(broken_data, site))
    assert work_dirs(tmp_path) == []


def test_a_running_build_keeps_its_work_directory_while_another_publishes(tmp_path, data_dir):
    site = tmp_path / "site"
    previous_site(site)
    ready, go = tmp_path / "ready", tmp_path / "go"
    patch = f"""
import pathlib, time
import runbooks.publish as publish
switch = publish.switch
def paused(*args):
    pathlib.Path({str(ready)!r}).touch()
    while not pathlib.Path({str(go)!r}).exists():
        time.sleep(0.05)
    switch(*args)
publish.switch = paused
"""
    with subprocess.Popen(
        build_command(data_dir, site, patch),
        cwd=ROOT,
        env=_env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as first:
        try:
            deadline = time.monotonic() + TIMEOUT
            while not ready.exists():
                assert first.poll() is None and time.monotonic() < deadline, first.communicate()
                time.sleep(0.05)
            (waiting,) = work_dirs(tmp_path)
            second = run_build(data_dir, site)
            assert second.returncode == 0, second.stdout + second.stderr
            assert work_dirs(tmp_path) == [waiting], "the running build's work directory was removed"
            go.touch()
            out, err = first.communicate(timeout=TIMEOUT)
            assert first.returncode == 0, out + err
        finally:
            _end_group(first.pid)
    assert is_new_site(site)
    assert work_dirs(tmp_path) == []


def test_only_our_own_work_directories_are_removed(tmp_path, data_dir):
    site = tmp_path / "site"
    mine = tmp_path / ".site-notes123"  # named like a work directory, but not marked as one
    mine.mkdir()
    (mine / "todo.txt").write_text("keep me", encoding="utf-8")
    empty = tmp_path / ".site-abcdefgh"  # an empty one, as a build killed before marking it leaves
    empty.mkdir()
    assert run_build(data_dir, site).returncode == 0
    assert (mine / "todo.txt").read_text(encoding="utf-8") == "keep me"
    assert not empty.exists()
    assert is_new_site(site)


def test_a_work_directory_is_removed_once_every_process_holding_it_has_ended(tmp_path):
    work = publish.WorkDir.create(tmp_path, "site")
    late = "import pathlib, sys, time; time.sleep(0.5); pathlib.Path(sys.argv[1], 'late').write_text('still writing')"
    writer = subprocess.Popen([sys.executable, "-c", late, str(work.path)], pass_fds=(work.fd,))
    try:
        work.remove()
        # The writer's write succeeded, so the directory was still there. It may still be ending when
        # remove returns: an ending process lets go of its descriptors, the lock among them, a moment
        # before it can be waited for.
        assert writer.wait(timeout=TIMEOUT) == 0, "the directory was removed while a process holding it still wrote"
    finally:
        writer.kill()
        writer.wait()
    assert not work.path.exists()


def test_a_work_directory_still_held_after_the_wait_is_left_for_the_next_build(tmp_path):
    work = publish.WorkDir.create(tmp_path, "site")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, pass_fds=(work.fd,)
    )
    try:
        work.remove(wait=0.2)
        assert work.path.is_dir()
        publish.remove_stale(tmp_path, "site")
        assert work.path.is_dir(), "removed while a process held it"
    finally:
        holder.communicate()
    publish.remove_stale(tmp_path, "site")
    assert work_dirs(tmp_path) == []


# -------------------------------------------------------------------------------------------------
# Full and read-only disks
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["1m", "4m"], ids=["full at once", "full halfway"])
def test_a_full_disk_is_one_line_and_keeps_the_site(tmpfs, data_dir, size):
    disk = tmpfs(size)
    site = disk / "site"
    before = previous_site(site)
    error = one_error(run_build(data_dir, site))
    assert error.startswith("mkdocs.yml: build_failed: ") and f"no space left on the disk mounted at {disk}" in error
    assert digest(site) == before
    assert work_dirs(disk) == [], "the failed build's work directory was left on the full disk"


def test_a_read_only_directory_is_one_line_and_keeps_the_site(tmpfs, data_dir):
    disk = tmpfs("16m")
    site = disk / "site"
    before = previous_site(site)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    error = one_error(run_build(data_dir, site))
    assert error.startswith(f"{site}: publish_failed: ") and "Read-only file system" in error
    assert digest(site) == before


# -------------------------------------------------------------------------------------------------
# Odd targets
# -------------------------------------------------------------------------------------------------


def test_a_file_where_the_site_belongs_is_refused_not_deleted(tmp_path, data_dir):
    site = tmp_path / "site"
    site.write_bytes(b"someone's notes")
    error = one_error(run_build(data_dir, site))
    assert error.startswith(f"{site}: publish_refused: ") and "a file" in error
    assert site.read_bytes() == b"someone's notes"
    assert work_dirs(tmp_path) == []


def test_a_loop_of_symbolic_links_is_refused(tmp_path, data_dir):
    site, other = tmp_path / "site", tmp_path / "other"
    site.symlink_to(other)
    other.symlink_to(site)
    error = one_error(run_build(data_dir, site))
    assert error.startswith(f"{site}: publish_refused: ") and "loop" in error
    assert os.readlink(site) == str(other) and os.readlink(other) == str(site)


def test_a_site_behind_a_symbolic_link_is_replaced_where_it_lives_and_the_gates_read_it(tmp_path, data_dir):
    real = tmp_path / "www" / "runbooks"
    before = previous_site(real)
    site = tmp_path / "site"
    site.symlink_to(real)
    result = run_build(data_dir, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert site.is_symlink() and os.readlink(site) == str(real)
    assert is_new_site(real) and digest(real) != before
    assert work_dirs(real.parent) == [] and work_dirs(tmp_path) == []
    for gate in (["scan-secrets", str(site)], ["check-links", str(site)]):
        checked = subprocess.run(
            [sys.executable, "-m", "runbooks", *gate], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert ": pass (" in checked.stdout


def test_a_language_build_removes_what_killed_ones_left_beside_the_site(tmp_path):
    """`mkdocs build` and `make serve` build English beside the site: stale work directories go, live ones stay."""
    site = tmp_path / "site"
    stale = tmp_path / ".site-en-abcdefgh"
    (stale / "site" / "en").mkdir(parents=True)
    (stale / publish.MARKER).write_text("12345\n", encoding="utf-8")
    (stale / "site" / "en" / "index.html").write_text("half a build", encoding="utf-8")
    live = publish.WorkDir.create(tmp_path, "site-en")  # held by this process, as by a build that runs
    broken = tmp_path / "mkdocs.en.yml"
    broken.write_text("INHERIT: no-such-file.yml\n", encoding="utf-8")
    try:
        child = languages.start(
            "en",
            config_file=broken,
            site_dir=site,
            site_url="http://127.0.0.1:8000/",
            data_dir=ROOT / "data",
            audience="internal",
            strict=True,
        )
        assert not stale.exists()
        assert live.path.is_dir()
        with pytest.raises(languages.LanguageBuildError):
            child.finish(site)
        assert not child.work.exists()
    finally:
        live.remove()
    assert work_dirs(tmp_path) == []
