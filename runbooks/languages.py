"""Build each language after the default one in a child process, in parallel, and move it into place.

The files a build adds beside its pages are made the same way, in a fork at the lowest priority
(`files_beside`), while the build renders its pages.

A child is either the engine's own command (`mkdocs build` for mkdocs.<lang>.yml) or, in a process
that builds once and runs no other thread, a fork of it: the fork starts with every module imported
and whatever the default language's build has loaded (its data, the search's Chinese dictionary), so
it skips what a fresh process spends most of a small build on. A process with other threads (`mkdocs
serve`) cannot fork safely: a lock another thread holds would stay held in the child for good. A fork
ends with the process that forked it (on Linux), so a language build that is stopped takes the fork
making its files with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin

from runbooks import engine
from runbooks.output import write_files
from runbooks.publish import SYSTEM_FAULT, WorkDir, describe, remove_stale, system_fault


class LanguageBuildError(Exception):
    """A language's child build failed; the message holds what it printed."""


@dataclass
class LanguageBuild:
    """One language being built by a child process into a temporary directory beside the site.

    The directory sits beside the site, not inside it, because the default language's build cleans
    its site directory when it starts; moving the result into place is then a rename on one filesystem.
    It is a work directory of runbooks.publish: locked while the child runs, so a build killed meanwhile
    leaves a directory the next one removes.
    """

    lang: str
    process: Child
    work: Path
    lock: WorkDir | None = None
    printed: str = ""
    """What the child printed, kept by `finish` before its work directory is removed."""

    @property
    def output(self) -> Path:
        """Where the child writes its warnings and errors."""
        return self.work / "build.log"

    def finish(self, site_dir: Path) -> None:
        """Wait for the build and move it to `site_dir`/<lang>; raise LanguageBuildError if it failed."""
        try:
            code = self.process.wait()
            self.printed = self.output.read_text(encoding="utf-8", errors="replace").strip()
            if code != 0:
                raise _failure(f"the {self.lang} build", "failed", self.printed, self.work)
            target = site_dir / self.lang
            shutil.rmtree(target, ignore_errors=True)
            (self.work / "site").rename(target)
        finally:
            self.stop()

    def messages(self) -> list[str]:
        """The warnings the child printed, once finished (a strict build has already failed on any)."""
        return self.printed.splitlines()

    def stop(self) -> None:
        """Kill the build if it still runs and remove what it wrote."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.lock is not None:
            self.lock.remove()
            self.lock = None
        else:
            shutil.rmtree(self.work, ignore_errors=True)


class Child(Protocol):
    """A running child build, as `subprocess.Popen` shows one."""

    def poll(self) -> int | None:
        """The exit code once the child has ended, else None."""
        ...

    def wait(self) -> int:
        """Wait for the child to end; its exit code (negative: the signal that ended it)."""
        ...

    def kill(self) -> None:
        """End the child at once."""
        ...


ForkedBuild = Callable[[Path], int]
"""What a forked child runs instead of the engine's command: build into the given directory, return an exit code."""


def can_fork() -> bool:
    """Whether this process may fork a child build: no other thread runs here."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def start(
    lang: str,
    *,
    config_file: Path,
    site_dir: Path,
    site_url: str,
    data_dir: Path,
    audience: str,
    strict: bool,
    fork: ForkedBuild | None = None,
) -> LanguageBuild:
    """Start building `lang` from `config_file` (mkdocs.<lang>.yml) for the site at `site_url`, built in `site_dir`.

    The child reads the same data and builds for the same audience; it is served under `<site_url><lang>/`.
    With `fork`, and when `can_fork()`, the child is a fork of this process that calls `fork` in the
    child's environment and directory; otherwise it runs the engine's command.
    Its output is kept in a file (a pipe nobody reads while the default language builds could fill and block it).
    """
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(site_dir.parent, f"{site_dir.name}-{lang}")  # left by builds that were killed
    lock = WorkDir.create(site_dir.parent, f"{site_dir.name}-{lang}")
    work = lock.path
    env = {
        "SITE_URL": urljoin(site_url, f"{lang}/"),
        "RUNBOOKS_DATA": str(data_dir),
        "RUNBOOKS_AUDIENCE": audience,
        "NO_MKDOCS_2_WARNING": "1",
    }
    log = work / "build.log"
    try:
        if fork is not None and can_fork():
            process: Child = _Forked(lambda: _in_fork(fork, work / "site", env, cwd=config_file.parent, log=log))
        else:
            command = engine.command("build", "--quiet", *engine.config_args(config_file))
            command += ["--site-dir", str(work / "site"), *(["--strict"] if strict else [])]
            with log.open("wb") as output:
                process = subprocess.Popen(
                    command,
                    cwd=config_file.parent,
                    env={**os.environ, **env},
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    pass_fds=(lock.fd,),  # the child keeps the directory locked even if this process is killed
                )
    except OSError:
        lock.remove()
        raise
    return LanguageBuild(lang, process, work, lock)


class _Forked:
    """A child forked from this process that runs `target` and exits with what it returns; it ends with this process.

    A fork keeps every descriptor open, the work directory's lock among them, so a directory is not
    removed while a fork still writes in it. A fork is killed when the process that forked it ends:
    the files of a language build that was stopped are of no use, and would be written meanwhile.
    """

    def __init__(self, target: Callable[[], int]) -> None:
        parent = os.getpid()
        self._process = multiprocessing.get_context("fork").Process(target=lambda: sys.exit(_child_of(parent, target)))
        _start(self._process)

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self) -> int:
        self._process.join()
        code = self._process.exitcode
        assert code is not None  # joined
        return code

    def kill(self) -> None:
        self._process.kill()


def _child_of(parent: int, target: Callable[[], int]) -> int:
    """In a fork of `parent`: be killed when `parent` ends (Linux's PR_SET_PDEATHSIG), unless it has already; run."""
    with contextlib.suppress(AttributeError):  # no prctl outside Linux: there a fork outlives its parent
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        return 1
    return target()


_PR_SET_PDEATHSIG = 1
"""The prctl(2) option that asks for a signal when the parent ends."""


def _failure(what: str, failed: str, printed: str, work: Path) -> LanguageBuildError:
    """What a child that failed said: one line for a fault of the system (a full disk), else all it printed."""
    fault = system_fault(printed, work)
    if fault:  # one line, which the build that started this one reports as such
        return LanguageBuildError(f"{what} {SYSTEM_FAULT}{fault}")
    return LanguageBuildError(f"{what} {failed}:\n{printed}")


def _start(process: multiprocessing.process.BaseProcess) -> None:
    """Fork `process` once this process's output is flushed: else the fork would print it again."""
    sys.stdout.flush()
    sys.stderr.flush()
    process.start()


def _in_fork(build: ForkedBuild, site_dir: Path, env: dict[str, str], *, cwd: Path, log: Path) -> int:
    """In the forked child: the environment, directory and output the engine's command would have; then build."""
    os.environ.update(env)
    os.chdir(cwd)
    with log.open("wb") as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    try:
        return build(site_dir)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


# -------------------------------------------------------------------------------------------------
# Files written beside a build's pages
# -------------------------------------------------------------------------------------------------

Files = Callable[[], Mapping[str, str | bytes]]
"""What makes the files a build adds beside its pages, as {path under the site: content}."""


@dataclass
class BuildFiles:
    """The files a build adds beside its pages, made by a fork at the lowest priority while the build goes on.

    The fork runs on whichever core a build leaves idle: a language that finishes early leaves its core
    to the files of the other. It writes into a work directory beside the site, since MkDocs writes
    its own sitemap at the end of a build and the public site's replaces it, and `finish` moves every
    file into place. Where this process may not fork (`can_fork`), `finish` makes and writes them itself.
    """

    make: Files
    lang: str
    process: Child | None = None
    lock: WorkDir | None = None

    def finish(self, site_dir: Path) -> None:
        """Wait for the files and put them under `site_dir`; raise LanguageBuildError if they could not be made."""
        try:
            if self.lock is None:
                write_files(site_dir, self.make())
                return
            assert self.process is not None
            code = self.process.wait()
            if code != 0:
                printed = (self.lock.path / "build.log").read_text(encoding="utf-8", errors="replace").strip()
                raise _failure(f"the {self.lang} build's files", "could not be made", printed, self.lock.path)
            made = self.lock.path / "files"
            for folder, _, names in os.walk(made):
                target = site_dir / Path(folder).relative_to(made)
                target.mkdir(parents=True, exist_ok=True)
                for name in names:
                    os.replace(Path(folder) / name, target / name)
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill the fork if it still runs and remove what it wrote."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait()
        if self.lock is not None:
            self.lock.remove()
            self.lock = None


def files_beside(site_dir: Path, lang: str, make: Files, *, fork: bool) -> BuildFiles:
    """Start making the files of the `lang` build in `site_dir` with `make`; with `fork`, in a fork if `can_fork()`."""
    if not (fork and can_fork()):
        return BuildFiles(make, lang)
    lock = WorkDir.create(site_dir.parent, f"{site_dir.name}-{lang}")
    log = lock.path / "build.log"
    try:
        process = _Forked(lambda: _write_in_fork(make, lock.path / "files", log))
    except OSError:
        lock.remove()
        raise
    return BuildFiles(make, lang, process, lock)


def _write_in_fork(make: Files, folder: Path, log: Path) -> int:
    """In the fork, at the lowest priority: make the files and write them into `folder`; 1 and a message on failure."""
    os.nice(19)
    with log.open("w", encoding="utf-8") as output:
        try:
            write_files(folder, make())
        except OSError as exc:
            output.write(f"{SYSTEM_FAULT}{describe(exc)}\n")
            return 1
        except Exception:  # the build reports it: a traceback is all there is to say
            output.write(traceback.format_exc())
            return 1
    return 0


# -------------------------------------------------------------------------------------------------
# Work whose result comes back from a fork
# -------------------------------------------------------------------------------------------------

Result = TypeVar("Result")


class ForkFailed(Exception):
    """Work run in a fork raised an exception that does not pass back (or the fork died); the message says how."""


def in_fork(work: Callable[[], Result], *, passed_back: tuple[type[Exception], ...] = ()) -> Callable[[], Result]:
    """Start `work` in a fork when this process may fork; call what is returned for its result.

    An exception of `passed_back` types is raised again here as it was; any other comes back as a
    ForkFailed holding its traceback. Where this process may not fork (another thread runs), `work`
    itself is returned, to run when its result is asked for.
    """
    if not can_fork():
        return work
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    # Not a daemon: the work may start processes of its own (check-links parses a large site in a pool).
    process = context.Process(target=_run_and_send, args=(work, sending, passed_back))
    _start(process)
    sending.close()

    def result() -> Result:
        try:
            kind, value = receiving.recv()
        except EOFError:  # it ended without an answer: its exit code is known once it is joined
            kind, value = "ended", None
        finally:
            receiving.close()
            process.join()
        if kind == "ended":
            raise ForkFailed(f"the fork ended with code {process.exitcode} and said nothing")
        if kind == "raised":
            raise value
        if kind == "failed":
            raise ForkFailed(value)
        return value

    return result


def _run_and_send(work: Callable[[], object], sending: Any, passed_back: tuple[type[Exception], ...]) -> None:
    try:
        answer: tuple[str, object] = ("done", work())
    except passed_back as exc:
        answer = ("raised", exc)
    except BaseException:
        answer = ("failed", traceback.format_exc())
    sending.send(answer)
    sending.close()
