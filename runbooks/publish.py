"""Build the site into a temporary directory, run the gates on it, and swap it into place only if all pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runbooks.findings import Finding

Gate = Callable[[Path], list[Finding]]


class SiteBuild:
    """A build of both languages running in a child `mkdocs build`; `wait` for its verdict."""

    def __init__(self, command: list[str], env: dict[str, str], config_file: Path) -> None:
        self.config_file = config_file
        # Its messages go to a file: a pipe nobody reads while other work runs could fill and stall the build.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by wait or stop, after the build ends
        self._process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT
        )

    def wait(self) -> Finding | None:
        """None once the build succeeded; else a finding holding what MkDocs printed."""
        try:
            if self._process.wait() == 0:
                return None
            self._output.seek(0)
            output = self._output.read().decode("utf-8", errors="replace").strip()
            return Finding("build_failed", "mkdocs build --strict failed:\n" + output, str(self.config_file))
        finally:
            self._output.close()

    def stop(self) -> None:
        """Stop the build if it still runs."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._output.close()


def start_build(
    site_dir: Path,
    data_dir: Path,
    *,
    config_file: Path = Path("mkdocs.yml"),
    site_url: str | None = None,
    audience: str = "internal",
) -> SiteBuild:
    """Start building both languages for one audience with MkDocs in a child process (no MkDocs import here)."""
    env = {**os.environ, "RUNBOOKS_DATA": str(data_dir.resolve()), "NO_MKDOCS_2_WARNING": "1"}
    env["RUNBOOKS_AUDIENCE"] = audience
    if site_url:
        env["SITE_URL"] = site_url
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
    command += ["--config-file", str(config_file), "--site-dir", str(site_dir.resolve())]
    return SiteBuild(command, env, config_file)


def build_site(site_dir: Path, data_dir: Path, **options: Any) -> Finding | None:
    """Build both languages for one audience and wait (`options` as for `start_build`); None on success."""
    return start_build(site_dir, data_dir, **options).wait()


def publish(target: Path, build: Callable[[Path], Finding | None], gates: Sequence[Gate] = ()) -> list[Finding]:
    """Build into a fresh directory beside `target`, gate it, and replace `target` only when nothing was found.

    On any failure the previous `target` is left exactly as it was and the findings are returned.
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, so the final renames stay on one filesystem.
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        candidate = work / target.name
        failed = build(candidate)
        if failed:
            return [failed]
        findings = [finding for gate in gates for finding in gate(candidate) if finding.severity == "error"]
        if findings:
            return findings
        if target.exists():
            target.rename(work / "previous")
        candidate.rename(target)
        return []
    finally:
        shutil.rmtree(work, ignore_errors=True)
