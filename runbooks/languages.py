"""Build each language after the default one in a child `mkdocs build`, in parallel, and move it into place."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin


class LanguageBuildError(Exception):
    """A language's child build failed; the message holds what it printed."""


@dataclass
class LanguageBuild:
    """One language being built by a child process into a temporary directory beside the site.

    The directory sits beside the site, not inside it, because the default language's build cleans
    its site directory when it starts; moving the result into place is then a rename on one filesystem.
    """

    lang: str
    process: subprocess.Popen[bytes]
    work: Path

    @property
    def output(self) -> Path:
        """Where the child writes its warnings and errors."""
        return self.work / "build.log"

    def finish(self, site_dir: Path) -> None:
        """Wait for the build and move it to `site_dir`/<lang>; raise LanguageBuildError if it failed."""
        try:
            if self.process.wait() != 0:
                text = self.output.read_text(encoding="utf-8", errors="replace").strip()
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
    work = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-{lang}-", dir=site_dir.parent))
    command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(config_file)]
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
                command, cwd=config_file.parent, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
            )
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return LanguageBuild(lang, process, work)
