"""The gates of a build after the first run in forks: the same findings, the same exceptions, in the same order."""

from __future__ import annotations

import os
import threading

import pytest

from runbooks import languages
from runbooks.findings import Finding, Unreadable


@pytest.fixture
def forking(monkeypatch):
    """This process may fork (a served site's thread, left by another test, is no lock a gate takes)."""
    monkeypatch.setattr(languages, "can_fork", lambda: True)


def _found_in(pid_file: str) -> list[Finding]:
    return [Finding("broken_link", f"seen by {os.getpid()}", pid_file, 3)]


def test_a_forked_gate_gives_its_findings_from_another_process(forking):
    findings = languages.in_fork(lambda: _found_in("site/index.html"))()
    assert [(f.reason, f.file, f.line) for f in findings] == [("broken_link", "site/index.html", 3)]
    assert findings[0].message != f"seen by {os.getpid()}"


def test_what_a_forked_gate_cannot_read_is_unreadable_here(forking):
    def unreadable() -> list[Finding]:
        raise Unreadable([Finding("unreadable", "not a directory (build the site first)", "site")])

    with pytest.raises(Unreadable) as raised:
        languages.in_fork(unreadable, passed_back=(Unreadable,))()
    assert [f.message for f in raised.value.findings] == ["not a directory (build the site first)"]


def test_a_forked_gate_that_breaks_or_dies_fails_with_what_happened(forking):
    def broken() -> list[Finding]:
        raise KeyError("no page")

    with pytest.raises(languages.ForkFailed, match="KeyError: 'no page'"):
        languages.in_fork(broken)()

    def dies() -> list[Finding]:
        os._exit(3)

    with pytest.raises(languages.ForkFailed, match="ended with code 3"):
        languages.in_fork(dies)()


def test_while_another_thread_runs_the_gate_runs_here_when_asked(monkeypatch):
    monkeypatch.setattr(languages, "can_fork", lambda: threading.active_count() == 1)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        ran = []
        waiting = languages.in_fork(lambda: ran.append(os.getpid()) or [])
        assert ran == []
        assert waiting() == [] and ran == [os.getpid()]
    finally:
        stop.set()
        thread.join()


def _square(number: int) -> int:
    return number * number


def test_a_forked_gate_may_start_processes_of_its_own(forking):
    # check-links parses a large site's new pages in a process pool.
    from concurrent.futures import ProcessPoolExecutor

    def pooled() -> list[Finding]:
        with ProcessPoolExecutor(max_workers=2) as pool:
            return [Finding("broken_link", str(sum(pool.map(_square, range(10)))), "site", 1)]

    assert [f.message for f in languages.in_fork(pooled)()] == ["285"]
