"""The search's Chinese words remembered between builds: what jieba cuts, without its dictionary for known text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jieba
import pytest
from material.plugins.search.plugin import SearchIndex

from runbooks import search_words
from runbooks.memory import digest

HAN = re.compile(r"[\u4e00-\u9fff]+")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("RUNBOOKS_CACHE_DIR", str(path))
    return path


@pytest.fixture
def fresh_jieba(monkeypatch):
    """jieba as a new process finds it: a tokenizer that has not read its dictionary, `jieba.cut` its own.

    Call it again for the next "process"; everything is put back after the test.
    """

    def fresh() -> jieba.Tokenizer:
        tokenizer = jieba.Tokenizer()
        monkeypatch.setattr(jieba, "dt", tokenizer)
        monkeypatch.setattr(jieba, "cut", tokenizer.cut)
        return tokenizer

    return fresh


def _texts(site: Path) -> list[str]:
    """The runs of Han characters on the built site's pages, each once."""
    runs = {run for page in sorted(site.rglob("*.html")) for run in HAN.findall(page.read_text(encoding="utf-8"))}
    return sorted(runs)


def test_remembered_words_are_what_jieba_cuts_the_real_sites_text(site, cache):
    texts = _texts(site)
    assert len(texts) > 300
    expected = [list(jieba.dt.cut(text)) for text in texts]
    first = search_words.RememberedCut(jieba.dt.cut, "key")
    assert [list(first(text.encode("utf-8"))) for text in texts] == expected
    first.save()

    def never(*args, **kwargs):
        raise AssertionError("jieba was asked to cut a text the memory holds")

    again = search_words.RememberedCut(never, "key")
    assert [list(again(text)) for text in texts] == expected


def test_a_build_whose_text_was_seen_never_reads_the_dictionary(cache, fresh_jieba):
    """Material's own segmentation of a page's text, in one process and then in the next."""
    text = "充值以后，在控制台查看余额与用量；OpenAI 的密钥放在 api_keys.env 里。"
    first = fresh_jieba()
    assert search_words.install({}) is jieba.cut
    segmented = SearchIndex()._segment_chinese(text)
    assert "\u200b" in segmented and first.initialized
    jieba.cut.save()

    later = fresh_jieba()
    assert search_words.install({}).remembers_any()
    assert SearchIndex()._segment_chinese(text) == segmented
    assert not later.initialized, "jieba read its dictionary for text it had cut before"
    # A new text is cut by jieba itself, as without the memory.
    SearchIndex()._segment_chinese("模型列表")
    assert later.initialized


def test_another_way_of_cutting_is_not_remembered(cache, fresh_jieba):
    tokenizer = fresh_jieba()
    words = search_words.install({})
    text = "错误码与余额不足"
    assert list(words(text, cut_all=True)) == list(tokenizer.cut(text, cut_all=True))
    assert list(words(text, HMM=False)) == list(tokenizer.cut(text, HMM=False))
    words.save()
    assert not cache.exists() or not list(cache.iterdir())


def test_words_are_remembered_per_jieba_version(cache, fresh_jieba, monkeypatch):
    fresh_jieba()
    search_words.install({})("余额不足")
    jieba.cut.save()
    fresh_jieba()
    monkeypatch.setattr(jieba, "__version__", jieba.__version__ + ".post1")
    assert not search_words.install({}).remembers_any()


@pytest.mark.parametrize(
    "options", [{"jieba_dict": "words.txt"}, {"jieba_dict_user": "ours.txt"}], ids=["own dictionary", "user words"]
)
def test_a_search_with_a_dictionary_of_its_own_is_left_as_it_is(cache, fresh_jieba, options):
    tokenizer = fresh_jieba()
    assert search_words.install(options) is None
    assert jieba.cut == tokenizer.cut


def test_the_session_build_remembered_its_words(site):
    """The build's hook installs the memory: this run's memory holds the words of every Chinese heading indexed."""
    [memory_file] = Path(os.environ["RUNBOOKS_CACHE_DIR"]).glob(f"{search_words.USER}-*.json")
    remembered = json.loads(memory_file.read_text(encoding="utf-8"))
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    checked = 0
    for doc in index["docs"]:
        for run in HAN.findall(doc["title"].replace("\u200b", "")):
            words = remembered[digest(run.encode("utf-8"))]
            assert "".join(words) == run and "\u200b".join(words) in doc["title"]
            checked += 1
    assert checked > 50
