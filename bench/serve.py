"""Time how long `mkdocs serve` takes to show an edit of the data."""

from __future__ import annotations

import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench import commands, generate
from bench.results import Reload
from runbooks.observe.proxy import free_port

PROVIDERS = 5
EDITS = 3
TIMEOUT_S = 30.0
START_TIMEOUT_S = 120.0
# A sentence every synthetic provider's summary holds (bench/generate.py), so an edit changes one visible fact.
FACT = "提供十个对话模型"


def reload(data_dir: Path, log: Callable[[str], None]) -> Reload:
    """Serve `data_dir`, edit the first provider's summary EDITS times, and time each until its page shows it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/providers/{generate.provider_id(1)}/"
    command = commands.serve(data_dir, port)
    providers = data_dir / "providers.yaml"
    original = providers.read_text(encoding="utf-8")
    if FACT not in original:
        raise SystemExit(f"{providers}: the fact to edit was not found")
    result = Reload()
    with tempfile.TemporaryFile() as out:
        server = subprocess.Popen(command.argv, cwd=command.cwd, env=command.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            if not _wait_for(url, lambda page: True, START_TIMEOUT_S):
                result.failure = f"the server did not come up within {START_TIMEOUT_S:.0f} s"
                return result
            for edit in range(1, EDITS + 1):
                time.sleep(1.0)  # let the watcher settle after the previous rebuild
                marker = f"reload check {edit} {time.time_ns() % 10**9}"
                providers.write_text(original.replace(FACT, f"{FACT}（{marker}）", 1), encoding="utf-8")
                start = time.perf_counter()
                if not _wait_for(url, lambda page, marker=marker: marker in page, TIMEOUT_S):
                    result.failure = f"edit {edit} did not show within {TIMEOUT_S:.0f} s"
                    return result
                result.edits.append(time.perf_counter() - start)
                log(f"  serve: edit {edit}/{EDITS}: {result.edits[-1]:.2f} s")
            return result
        finally:
            providers.write_text(original, encoding="utf-8")
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for(url: str, ready: Callable[[str], bool], timeout: float) -> bool:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if ready(response.read().decode("utf-8", errors="replace")):
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    return False
