"""What the gates remember: an unchanged file is skipped, a changed one is read, findings never hide."""

from __future__ import annotations

import random
import string

import pytest

from runbooks import memory as gate_memory
from runbooks.checks.links import _parse, _parse_all, check_links
from runbooks.checks.secrets import scan_secrets
from runbooks.memory import CleanFiles, Derived, digest


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("RUNBOOKS_CACHE_DIR", str(path))
    return path


def _key() -> str:
    # Generated at run time: an OpenAI project key's shape, never written out.
    rng = random.Random(7)
    return "sk-" + "proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40))


def _site(tmp_path, body: str):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(f"<html><body><p>{body}</p></body></html>\n", encoding="utf-8")
    return site


def test_a_clean_file_is_remembered_and_skipped_until_it_changes(tmp_path, cache, monkeypatch):
    site = _site(tmp_path, "nothing to see")
    assert scan_secrets(site) == []
    [remembered] = list(cache.iterdir())
    assert remembered.read_text(encoding="ascii").split() == [digest((site / "index.html").read_bytes())]

    reads = []
    real = gate_memory.CleanFiles.__contains__
    monkeypatch.setattr(gate_memory.CleanFiles, "__contains__", lambda self, d: reads.append(d) or real(self, d))
    assert scan_secrets(site) == []
    assert reads == [digest((site / "index.html").read_bytes())]

    _site(tmp_path, f"the key is {_key()}")
    [finding] = scan_secrets(site)
    assert finding.reason == "secret" and finding.file == "site/index.html"


def test_a_file_with_a_finding_is_never_remembered(tmp_path, cache):
    site = _site(tmp_path, f"the key is {_key()}")
    for _ in range(2):
        assert [f.reason for f in scan_secrets(site)] == ["secret"]
    assert not cache.exists() or not any(path.read_text(encoding="ascii").strip() for path in cache.iterdir())


def test_another_env_file_is_another_memory(tmp_path, cache):
    rng = random.Random(3)
    value = "".join(rng.choice(string.ascii_letters) for _ in range(24))
    site = _site(tmp_path, f"reference {value}")
    assert scan_secrets(site) == []  # no env file: the value is not a secret shape
    env_file = tmp_path / "api_keys.env"
    env_file.write_text(f"TEAM_WEBHOOK_TOKEN={value}\n", encoding="utf-8")
    [finding] = scan_secrets(site, env_file)
    assert finding.reason == "env_value"
    assert len(list(cache.iterdir())) == 1  # the run that found something remembered nothing under its key


def test_an_unwritable_cache_only_means_reading_again(tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("RUNBOOKS_CACHE_DIR", str(blocked / "cache"))
    site = _site(tmp_path, "nothing to see")
    assert scan_secrets(site) == []
    assert scan_secrets(site) == []
    memory = CleanFiles("scan-secrets", "key")
    memory.add("0" * 32)
    memory.save()
    assert "0" * 32 in memory


def test_the_memory_starts_afresh_beyond_its_bound(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(gate_memory, "MAX_ENTRIES", 3)
    memory = CleanFiles("gate", "key")
    for n in range(3):
        memory.add(f"{n:032x}")
    memory.save()
    memory = CleanFiles("gate", "key")
    memory.add(f"{9:032x}")
    memory.save()
    [path] = list(cache.iterdir())
    assert path.read_text(encoding="ascii").split() == [f"{9:032x}"]


def test_a_page_changed_since_it_was_parsed_is_parsed_again(tmp_path, cache):
    site = _site(tmp_path, '<a href="#here" id="here">here</a>')
    assert check_links(site) == []
    assert check_links(site) == []
    _site(tmp_path, '<a href="#gone">gone</a>')
    assert [f.reason for f in check_links(site)] == ["broken_anchor"]


def test_remembered_pages_are_what_parsing_them_gives(site, cache):
    pages = sorted(site.rglob("*.html"))
    fresh = [_parse(path.read_text(encoding="utf-8")) for path in pages]
    assert _parse_all(pages) == fresh  # parsed and remembered
    assert _parse_all(pages) == fresh  # taken from memory
    assert any(path.suffix == ".json" for path in cache.iterdir())


def test_memories_read_at_the_same_time_keep_what_each_parsed(cache):
    """`check` makes the gates of both audiences before either runs: the second save keeps the first's pages."""
    first, second = Derived("check-links", "key"), Derived("check-links", "key")
    first["a" * 32] = [["top"], []]
    second["b" * 32] = [[], [["#top", 3]]]
    first.save()
    second.save()
    again = Derived("check-links", "key")
    assert again["a" * 32] == [["top"], []] and again["b" * 32] == [[], [["#top", 3]]]
