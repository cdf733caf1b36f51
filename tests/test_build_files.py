"""The files a build adds beside its pages: made by a low-priority fork and moved into place, or made in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbooks.languages import BuildFiles, files_beside
from runbooks.publish import SYSTEM_FAULT

from .conftest import ROOT

# Run in a process of its own: a test process may hold other threads (a served site), and then nothing forks.
_FILES = """
import json, os, sys, threading, time
from pathlib import Path
from runbooks.languages import LanguageBuildError, files_beside

site, how = Path(sys.argv[1]), sys.argv[2]
here = os.getpid()

def make():
    if how == "fails":
        raise ValueError("no such provider: acme")
    if how == "unwritable":
        return {"robots.txt": "x", "robots.txt/inside": "y"}
    if how == "slow":
        time.sleep(60)
    return {
        "faq.md": "# FAQ\\n",
        "providers/acme.md": "# Acme\\n",
        "sitemap.xml.gz": bytes([31, 139, 0, 255]),
        "made-by.txt": "this process" if os.getpid() == here else f"a fork at nice {os.nice(0)}",
    }

if how == "threads":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
site.mkdir(parents=True, exist_ok=True)
files = files_beside(site, "zh", make, fork=how != "no fork")
beside = sorted(p.name for p in site.parent.iterdir() if p.name.startswith(".site-"))
if how == "slow":
    files.stop()
    print(json.dumps({"beside": beside, "after": sorted(p.name for p in site.parent.iterdir())}))
    sys.exit(0)
try:
    files.finish(site)
except LanguageBuildError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(0)
written = {p.relative_to(site).as_posix(): p.read_bytes().hex() for p in sorted(site.rglob("*")) if p.is_file()}
print(json.dumps({"written": written, "beside": beside, "after": sorted(p.name for p in site.parent.iterdir())}))
"""


def _run(tmp_path: Path, how: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _FILES, str(tmp_path / "site"), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _made_by(outcome: dict) -> str:
    return bytes.fromhex(outcome["written"].pop("made-by.txt")).decode()


def test_a_fork_at_the_lowest_priority_makes_the_files_and_they_are_moved_into_place(tmp_path):
    forked, in_place = _run(tmp_path / "forked", "fork"), _run(tmp_path / "in place", "no fork")
    assert _made_by(forked) == "a fork at nice 19"
    assert _made_by(in_place) == "this process"
    assert forked["written"] == in_place["written"]
    assert sorted(forked["written"]) == ["faq.md", "providers/acme.md", "sitemap.xml.gz"]
    # The fork wrote beside the site, in a work directory of its own, which is gone once the files are in place.
    assert len(forked["beside"]) == 1 and forked["beside"][0].startswith(".site-zh-")
    assert forked["after"] == in_place["after"] == ["site"]


def test_while_other_threads_run_the_files_are_made_in_place(tmp_path):
    outcome = _run(tmp_path, "threads")
    assert _made_by(outcome) == "this process"
    assert outcome["beside"] == []


def test_files_that_cannot_be_made_fail_the_build_with_what_went_wrong(tmp_path):
    failed = _run(tmp_path / "fails", "fails")["error"]
    assert failed.startswith("the zh build's files could not be made:")
    assert "ValueError: no such provider: acme" in failed
    unwritable = _run(tmp_path / "unwritable", "unwritable")["error"]
    assert unwritable.startswith(f"the zh build's files {SYSTEM_FAULT}")
    assert "Traceback" not in unwritable and len(unwritable.splitlines()) == 1


def test_stopping_kills_the_fork_and_leaves_nothing_beside_the_site(tmp_path):
    outcome = _run(tmp_path, "slow")
    assert len(outcome["beside"]) == 1
    assert outcome["after"] == ["site"]


def test_made_in_place_a_failure_is_the_exception_itself(tmp_path):
    def make():
        raise LookupError("acme")

    files = BuildFiles(make, "en")
    with pytest.raises(LookupError):
        files.finish(tmp_path)
    in_place = files_beside(tmp_path / "site", "en", lambda: {"a/b.md": "b"}, fork=False)
    in_place.finish(tmp_path / "site")
    assert (tmp_path / "site" / "a" / "b.md").read_text(encoding="utf-8") == "b"
    assert sorted(os.listdir(tmp_path)) == ["site"]
