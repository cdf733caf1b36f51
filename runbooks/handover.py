"""The site a command derived, handed to the MkDocs build it starts: the data is read once, while MkDocs starts.

`python -m runbooks build` and `check` run MkDocs in a child process, which spends its first second
importing MkDocs, the theme and its plugins. The command reads the data meanwhile, derives the
`Site` and sends it through a pipe whose descriptor the child finds in RUNBOOKS_SITE_FD. The build's
hook takes it when it was derived from the data directory and for the audience the build is for,
and reads the data itself otherwise: when the command sent nothing (data it could not read, which
the build then reports as it always does), or when the pipe broke.

Nothing but the command that started the build writes to the pipe, so what comes through it is
what that command derived; the pickle is never read from anywhere else.
"""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbooks.site import Site

ENV = "RUNBOOKS_SITE_FD"
"""The environment variable that names the pipe's descriptor in the build's process."""


class Handover:
    """The command's end of the pipe to one build: `send` the site, or nothing, exactly once; then `close`."""

    def __init__(self, data_dir: Path, audience: str) -> None:
        self.key = (str(data_dir.resolve()), audience)
        self._read, self._write = os.pipe()
        self._sender: threading.Thread | None = None

    @property
    def child_fd(self) -> int:
        """The descriptor the build's process inherits, to read from."""
        return self._read

    def env(self) -> dict[str, str]:
        """What the build's environment needs to find the pipe."""
        return {ENV: str(self._read)}

    def started(self) -> None:
        """The build's process holds its own copy of the reading end now: this process lets go of its copy.

        From here on, a build that ends without reading makes the write fail rather than wait for good.
        """
        self._close_read()

    def send(self, site: Site | None) -> None:
        """Send `site` (None: nothing, so the build reads the data itself); the writing happens in the background.

        The pipe holds far less than a site, so the writing waits until the build reads, which it does
        once MkDocs has started; meanwhile this process goes on.
        """
        if self._sender is not None:
            raise RuntimeError("a handover sends once")
        if self._write < 0:  # closed: the build ended, or never started
            return
        write, self._write = self._write, -1
        payload = None if site is None else pickle.dumps((self.key, site), protocol=pickle.HIGHEST_PROTOCOL)
        self._sender = threading.Thread(target=_write_all, args=(write, payload), name="handover", daemon=True)
        self._sender.start()

    def close(self) -> None:
        """Once the build has ended: release the pipe (sending nothing if nothing was sent)."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1
        self._close_read()  # a sender still waiting for a build that never read fails now, and ends
        if self._sender is not None:
            self._sender.join()

    def _close_read(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            self._read = -1


def _write_all(fd: int, payload: bytes | None) -> None:
    try:
        if payload is not None:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
    except OSError:  # the build ended without reading: it read the data itself, or failed before
        pass
    finally:
        os.close(fd)


def receive(data_dir: Path, audience: str) -> Site | None:
    """In the build: the site the command that started it sent for `data_dir` and `audience`, else None.

    Waits for the command to send it. Read once per process: the variable is removed, so a rebuild,
    or a build this one starts, reads the data itself.
    """
    fd = os.environ.pop(ENV, None)
    if fd is None:
        return None
    try:
        with os.fdopen(int(fd), "rb") as pipe:
            key, site = pickle.load(pipe)
    except (OSError, ValueError, EOFError, pickle.UnpicklingError):  # nothing sent, or not this build's pipe
        return None
    return site if key == (str(data_dir.resolve()), audience) else None
