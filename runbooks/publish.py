"""Build the site into a temporary directory, run the gates on it, and swap it into place only if all pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from runbooks.findings import Finding

Gate = Callable[[Path], list[Finding]]


def build_site(
    site_dir: Path,
    data_dir: Path,
    *,
    config_file: Path = Path("mkdocs.yml"),
    site_url: str | None = None,
    audience: str = "internal",
) -> Finding | None:
    """Build both languages for one audience with MkDocs in a subprocess (this package never imports MkDocs)."""
    env = {**os.environ, "RUNBOOKS_DATA": str(data_dir.resolve()), "NO_MKDOCS_2_WARNING": "1"}
    env["RUNBOOKS_AUDIENCE"] = audience
    if site_url:
        env["SITE_URL"] = site_url
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
    command += ["--config-file", str(config_file), "--site-dir", str(site_dir.resolve())]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode == 0:
        return None
    output = (result.stderr or result.stdout).strip()
    return Finding("build_failed", "mkdocs build --strict failed:\n" + output, str(config_file))


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
