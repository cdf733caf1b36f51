"""Build the site into a work directory beside it, gate it, and switch it into place in one atomic step.

The published directory is never missing: the new build takes its place with one `renameat2` call
that exchanges the two directories (Linux, `RENAME_EXCHANGE`), or with one `rename` when there was no
previous site. Where the file system cannot exchange, the old site is first moved into the work
directory, as `previous`, and a run killed between the two renames leaves it there for the next run
to put back.

Each work directory is named `.<site>-XXXXXXXX` (a language built beside a site: `.<site>-<lang>-XXXXXXXX`),
holds a marker file and is locked (`flock`) by the process that made it and by the builds it starts.
A build that was killed releases its locks, so the next build removes what it left behind; a build
still running keeps its lock, and its directory. A build removes its own directory once every process
it started has let go of it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runbooks import engine
from runbooks.findings import Finding
from runbooks.handover import Handover

Gate = Callable[[Path], list[Finding]]

MARKER = ".runbooks-work"
"""The file that marks a directory as a work directory of ours, safe to remove once nobody holds its lock."""
PREVIOUS = "previous"
"""Where the two-rename switch keeps the old site for a moment (only where directories cannot be exchanged)."""

WRITERS_WAIT = 10.0
"""Seconds `WorkDir.remove` waits for the other processes that hold a work directory's lock to end."""

_HELD: set[int] = set()
"""The lock descriptors of this process's work directories: every build started meanwhile inherits them."""


class SiteBuild:
    """A build of both languages running in a child `mkdocs build`; `wait` for its verdict."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        config_file: Path,
        site_dir: Path,
        handover: Handover | None = None,
    ) -> None:
        self.config_file, self.site_dir, self.handover = config_file, site_dir, handover
        # Its messages go to a file: a pipe nobody reads while other work runs could fill and stall the build.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by wait or stop, after the build ends
        # The child holds the locks of the work directories too: if this process is killed, what the
        # child still writes is not removed from under it.
        try:
            self._process = subprocess.Popen(
                command,
                env={**env, **handover.env()} if handover else env,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
                pass_fds=(*_HELD, *([handover.child_fd] if handover else [])),
            )
        except BaseException:
            self._close()
            raise
        if handover:
            handover.started()

    def wait(self) -> Finding | None:
        """None once the build succeeded; else a finding holding what MkDocs printed."""
        try:
            if self._process.wait() == 0:
                return None
            self._output.seek(0)
            output = self._output.read().decode("utf-8", errors="replace").strip()
            fault = system_fault(output, self.site_dir)
            if fault:  # a full disk or a read-only directory: the one line that says so, not MkDocs' traceback
                return Finding("build_failed", f"mkdocs build --strict failed: {fault}", str(self.config_file))
            return Finding("build_failed", "mkdocs build --strict failed:\n" + output, str(self.config_file))
        finally:
            self._close()

    def stop(self) -> None:
        """Stop the build if it still runs."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._close()

    def _close(self) -> None:
        self._output.close()
        if self.handover:
            self.handover.close()


def start_build(
    site_dir: Path,
    data_dir: Path,
    *,
    config_file: Path = Path("mkdocs.yml"),
    site_url: str | None = None,
    audience: str = "internal",
    handover: Handover | None = None,
) -> SiteBuild:
    """Start building both languages for one audience with MkDocs in a child process (no MkDocs import here).

    With `handover`, the build waits for the site sent through it (or for nothing, to read the data
    itself): send, or close it, before waiting for the build.
    """
    env = {**os.environ, "RUNBOOKS_DATA": str(data_dir.resolve()), "NO_MKDOCS_2_WARNING": "1"}
    env["RUNBOOKS_AUDIENCE"] = audience
    if site_url:
        env["SITE_URL"] = site_url
    command = engine.command("build", "--strict", "--quiet")
    command += ["--config-file", str(config_file), "--site-dir", str(site_dir.resolve())]
    return SiteBuild(command, env, config_file, site_dir, handover)


def build_site(site_dir: Path, data_dir: Path, **options: Any) -> Finding | None:
    """Build both languages for one audience and wait (`options` as for `start_build`); None on success."""
    return start_build(site_dir, data_dir, **options).wait()


def publish(target: Path, build: Callable[[Path], Finding | None], gates: Sequence[Gate] = ()) -> list[Finding]:
    """Build into a fresh directory beside `target`, gate it, and switch it in only when nothing was found.

    On any failure the previous `target` is left exactly as it was and the findings are returned; a
    target that is a file, or a symbolic link that leads nowhere but round, is refused, and a
    directory that cannot be written (read-only, full) is reported in one line. An exception raised
    by `build` or a gate propagates, after the work directory is removed.
    """
    shown = target
    try:
        target = published_path(target)
    except RefusedTarget as refused:
        return [Finding("publish_refused", str(refused), str(shown))]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target.parent, target.name, restore=target)
        work = WorkDir.create(target.parent, target.name)
    except OSError as exc:
        return [_fault(shown, f"cannot create the build directory beside it: {describe(exc)}")]
    try:
        candidate = work.path / target.name
        failed = build(candidate)
        if failed:
            return [failed]
        findings = [finding for gate in gates for finding in gate(candidate) if finding.severity == "error"]
        if findings:
            return findings
        try:
            switch(candidate, target, work.path / PREVIOUS)
        except OSError as exc:
            return [_fault(shown, f"could not switch the new build in: {describe(exc)}")]
        return []
    finally:
        work.remove()


def _fault(target: Path, what: str) -> Finding:
    return Finding("publish_failed", what, str(target))


class RefusedTarget(Exception):
    """The place to publish at is not a directory that can be replaced; the message says why."""


def published_path(target: Path) -> Path:
    """The directory to replace for `target`: absolute, through symbolic links; RefusedTarget if there is none."""
    loop = "this is a symbolic link that leads round in a loop; point it at a directory or remove it"
    try:
        resolved = Path(os.path.abspath(target)).resolve()
    except RuntimeError:  # Python 3.11's word for a loop of links
        raise RefusedTarget(loop) from None
    except OSError as exc:
        raise RefusedTarget(f"it cannot be looked at: {describe(exc)}") from None
    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        return resolved  # nothing published yet
    except OSError as exc:
        raise RefusedTarget(loop if exc.errno == errno.ELOOP else f"it cannot be looked at: {describe(exc)}") from None
    if not stat.S_ISDIR(mode):
        kind = "a symbolic link to a file" if os.path.islink(target) else "a file"
        raise RefusedTarget(
            f"this is {kind}, not a site directory, so it was not replaced; move it away or choose another --site-dir"
        )
    return resolved


# -------------------------------------------------------------------------------------------------
# The switch
# -------------------------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def switch(candidate: Path, target: Path, previous: Path) -> None:
    """Put the directory `candidate` at `target`, where the old site ends up in `candidate`'s place.

    One atomic step: a rename when `target` does not exist, else an exchange of the two directories.
    Only where the file system cannot exchange does the old site go to `previous` first (see the module).
    """
    if not os.path.lexists(target):
        try:
            os.rename(candidate, target)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):  # else another build published meanwhile
                raise
    if exchange(candidate, target):
        return
    os.rename(target, previous)
    os.rename(candidate, target)


def exchange(first: Path, second: Path) -> bool:
    """Swap two directories atomically (Linux renameat2 with RENAME_EXCHANGE); False where that is not supported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # an old kernel or a file system without it
        return False
    raise OSError(code, os.strerror(code), str(second))


def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it (glibc before 2.28)
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


# -------------------------------------------------------------------------------------------------
# Work directories
# -------------------------------------------------------------------------------------------------


class WorkDir:
    """A directory `.<name>-XXXXXXXX` beside what is built, locked by this process until `remove`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def create(cls, parent: Path, name: str) -> WorkDir:
        """Make, lock and mark a new work directory in `parent`; OSError if `parent` cannot hold one."""
        for _ in range(100):
            path = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # Another build's clean-up may have taken the empty directory before the lock: then try again.
                ours = os.path.samestat(os.fstat(fd), os.stat(path))
            except (BlockingIOError, FileNotFoundError):
                ours = False
            if ours:
                try:
                    (path / MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
                except OSError:
                    os.close(fd)
                    shutil.rmtree(path, ignore_errors=True)
                    raise
                _HELD.add(fd)
                return cls(path, fd)
            os.close(fd)
        raise OSError(errno.EAGAIN, "every new work directory was taken by another build's clean-up", str(parent))

    def remove(self, *, wait: float = WRITERS_WAIT) -> None:
        """Remove the directory and everything in it once no other process holds its lock.

        The processes this one started hold the lock as well, since a fork keeps every descriptor: a
        fork's own fork, ended with it, may outlive it by a moment. A process that still holds the lock
        after `wait` seconds keeps the directory, which the next build removes once that process ends.
        """
        _HELD.discard(self.fd)
        os.close(self.fd)  # the lock stays while another process holds it
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:  # another build's clean-up was quicker
            return
        try:
            if _lock_within(fd, wait):
                _remove_work(self.path)
        finally:
            os.close(fd)


def _lock_within(fd: int, wait: float) -> bool:
    """Lock the directory open at `fd` as soon as no other process holds it, within `wait` seconds.

    False when it stays held, or cannot be locked at all (a file system without locks): not ours to remove.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        except OSError:
            return False


def _remove_work(path: Path) -> None:
    """Remove a work directory, its marker last: a removal cut short leaves one the next build still knows."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        if entry.name == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    with contextlib.suppress(OSError):
        os.unlink(path / MARKER)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def remove_stale(parent: Path, name: str, *, restore: Path | None = None) -> None:
    """Remove the work directories for `name` in `parent` that no running build holds.

    With `restore`, a site left in a work directory as `previous` (a two-rename switch that was cut
    short) is moved back to `restore` first, if nothing has been published there since.
    """
    pattern = re.compile(rf"\.{re.escape(name)}-(?:[a-z]{{2}}-)?[a-z0-9_]{{8}}")
    try:
        entries = [entry for entry in os.scandir(parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        if not _lock_within(fd, 0):  # a build that runs holds it
            os.close(fd)
            continue
        try:
            path = Path(entry.path)
            if not (path / MARKER).is_file():
                path.rmdir()  # only an empty one, made by a build killed before it marked it; never someone's files
                continue
            previous = path / PREVIOUS
            if restore is not None and previous.is_dir() and not os.path.lexists(restore):
                os.rename(previous, restore)
            _remove_work(path)
        except OSError:
            pass
        finally:
            os.close(fd)


# -------------------------------------------------------------------------------------------------
# Faults of the system, in one line
# -------------------------------------------------------------------------------------------------

_OS_ERROR = re.compile(r"\[Errno (\d+)\] ([^:\n]+)(?:: '([^'\n]*)'(?: -> '([^'\n]*)')?)?")
"""An OSError as Python prints it: errno, text, and the file (or the source and the destination of a copy)."""
SYSTEM_FAULT = "failed on the system: "
"""How a child build's one-line system fault is worded, so that the build that started it recognises it."""


def describe(exc: OSError) -> str:
    """An OSError as a person reads it: what went wrong and where ("Read-only file system: /srv/.site-x")."""
    filename = exc.filename2 or exc.filename
    if exc.errno == errno.ENOSPC:
        return _no_space(Path(filename) if filename else None)
    text = exc.strerror or str(exc)
    return f"{text}: {filename}" if filename else text


def system_fault(output: str, where: Path | None = None) -> str | None:
    """One line for a build that died of the system (a full disk, a read-only directory), or None.

    `output` is what the build printed, `where` the directory it was writing: a child build's
    SYSTEM_FAULT line, or an OSError (`OSError: [Errno 28] No space left on device: '…'`, at the end of
    a traceback) is such a death. So is an empty output when `where` is on a disk with no space left.
    """
    reported = output.rfind(SYSTEM_FAULT)
    if reported >= 0:
        return output[reported + len(SYSTEM_FAULT) :].splitlines()[0].strip()
    found = _OS_ERROR.findall(output)
    if found:
        code, text, source, destination = found[-1]
        filename = destination or source  # a copy fails where it writes
        if int(code) == errno.ENOSPC:
            return _no_space(Path(filename) if filename else where)
        return f"{text}: {filename}" if filename else text
    if not output.strip() and where is not None and _disk_full(where):
        return _no_space(where)
    return None


def _no_space(where: Path | None) -> str:
    if where is None:
        return "no space left on the disk"
    return f"no space left on the disk mounted at {_mount_point(where)}"


def _mount_point(path: Path) -> Path:
    """The mount point of the file system that holds `path` (or would hold it)."""
    path = Path(os.path.abspath(path))
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _disk_full(where: Path) -> bool:
    """Whether the file system holding `where` (or its nearest existing parent) has less than 1 MiB free."""
    for folder in (where, *where.parents):
        try:
            usage = os.statvfs(folder)
        except OSError:
            continue
        return usage.f_bavail * usage.f_frsize < 1024 * 1024
    return False
