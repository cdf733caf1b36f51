"""Build each language after the default one in a child `mkdocs build`, in parallel, and move it into place."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from runbooks import engine
from runbooks.publish import SYSTEM_FAULT, WorkDir, remove_stale, system_fault


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
    process: subprocess.Popen[bytes]
    work: Path
    lock: WorkDir | None = None

    @property
    def output(self) -> Path:
        """Where the child writes its warnings and errors."""
        return self.work / "build.log"

    def finish(self, site_dir: Path) -> None:
        """Wait for the build and move it to `site_dir`/<lang>; raise LanguageBuildError if it failed."""
        try:
            if self.process.wait() != 0:
                text = self.output.read_text(encoding="utf-8", errors="replace").strip()
                fault = system_fault(text, self.work)
                if fault:  # a full disk or a read-only directory: one line, which the parent build reports as such
                    raise LanguageBuildError(f"the {self.lang} build {SYSTEM_FAULT}{fault}")
                raise LanguageBuildError(f"the {self.lang} build failed:\n{text}")
            target = site_dir / self.lang
            shutil.rmtree(target, ignore_errors=True)
            (self.work / "site").rename(target)
        finally:
            self.stop()

    def messages(self) -> list[str]:
        """The warnings the child printed (a strict build has already failed on any)."""
        try:
            return self.output.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return []

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


def start(
    lang: str,
    *,
    config_file: Path,
    site_dir: Path,
    site_url: str,
    data_dir: Path,
    audience: str,
    strict: bool,
) -> LanguageBuild:
    """Start building `lang` from `config_file` (mkdocs.<lang>.yml) for the site at `site_url`, built in `site_dir`.

    The child reads the same data and builds for the same audience; it is served under `<site_url><lang>/`.
    Its output is kept in a file (a pipe nobody reads while the default language builds could fill and block it).
    """
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(site_dir.parent, f"{site_dir.name}-{lang}")  # left by builds that were killed
    lock = WorkDir.create(site_dir.parent, f"{site_dir.name}-{lang}")
    work = lock.path
    command = engine.command("build", "--quiet", *engine.config_args(config_file))
    command += ["--site-dir", str(work / "site"), *(["--strict"] if strict else [])]
    env = {
        **os.environ,
        "SITE_URL": urljoin(site_url, f"{lang}/"),
        "RUNBOOKS_DATA": str(data_dir),
        "RUNBOOKS_AUDIENCE": audience,
        "NO_MKDOCS_2_WARNING": "1",
    }
    try:
        with (work / "build.log").open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=config_file.parent,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                pass_fds=(lock.fd,),  # the child keeps the directory locked even if this process is killed
            )
    except OSError:
        lock.remove()
        raise
    return LanguageBuild(lang, process, work, lock)
