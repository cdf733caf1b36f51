"""The words the search makes of Chinese text, remembered between builds: jieba reads its dictionary only for new text.

Material's search plugin segments every run of Han characters with `jieba.cut` and joins the words
with zero-width spaces. jieba reads its dictionary of half a million words (half a second or more)
on its first cut, in every build. What a cut gives depends only on the text, on jieba's version and
on its dictionary, so the words are kept in the memory the gates use (runbooks/memory.py) under a key
naming those: a build whose Chinese text was all seen before never reads the dictionary, and a new
text is cut by jieba itself. Only cuts with jieba's own dictionary are remembered: a search
configured with a dictionary of its own (`jieba_dict`, `jieba_dict_user`) is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from runbooks.memory import Derived, digest

USER = "search-words"
"""The memory's file name starts with this."""


class RememberedCut:
    """`jieba.cut` that answers from the memory where it can; every cut it had to make is saved by `save`."""

    def __init__(self, cut: Callable[..., Iterator[str]], key: str) -> None:
        self._cut, self.key = cut, key
        self._memory = Derived(USER, key)

    def __call__(
        self, sentence: str | bytes, cut_all: bool = False, HMM: bool = True, use_paddle: bool = False
    ) -> Iterator[str]:
        """The words of `sentence`, as `jieba.cut` gives them."""
        if cut_all or not HMM or use_paddle:  # only the search's way of cutting is remembered
            return self._cut(sentence, cut_all=cut_all, HMM=HMM, use_paddle=use_paddle)
        text = sentence.decode("utf-8") if isinstance(sentence, bytes) else sentence
        known = digest(text.encode("utf-8"))
        if known not in self._memory:
            self._memory[known] = list(self._cut(text))
        return iter(self._memory[known])

    def remembers_any(self) -> bool:
        """Whether anything was remembered from earlier builds (or cut in this one)."""
        return len(self._memory) > 0

    def save(self) -> None:
        """Keep the words of every text cut since the last save for the builds after this one."""
        self._memory.save()


def install(search_options: dict[str, Any]) -> RememberedCut | None:
    """Make `jieba.cut` remember its words, once per process; None where the search does not segment that way.

    `search_options` is the search plugin's configuration. Where jieba is not installed, or the search
    reads a dictionary of its own, nothing changes.
    """
    if search_options.get("jieba_dict") or search_options.get("jieba_dict_user"):
        return None
    try:
        import jieba
    except ImportError:
        return None
    if isinstance(jieba.cut, RememberedCut):
        return jieba.cut
    tokenizer = jieba.dt
    if tokenizer.dictionary is not jieba.DEFAULT_DICT:
        return None  # another dictionary: what it cuts is not what the key names
    dictionary = os.path.join(os.path.dirname(jieba.__file__), jieba.DEFAULT_DICT_NAME)
    try:
        stat = os.stat(dictionary)
    except OSError:
        return None
    key = f"jieba {jieba.__version__} {dictionary} {stat.st_size} {stat.st_mtime_ns}"
    remembered = RememberedCut(tokenizer.cut, key)
    jieba.cut = remembered
    return remembered


def _load_dictionary() -> None:
    """Read jieba's dictionary now, where jieba is installed (before forking, so that every fork starts with it)."""
    try:
        import jieba
    except ImportError:
        return
    jieba.initialize()


def prepare(search_options: dict[str, Any], *, before_fork: bool) -> RememberedCut | None:
    """Remember the search's words in this process; before forking other builds, read the dictionary they need.

    The search segments Chinese text in every language (the English pages name Chinese things too).
    With words remembered from earlier builds a build may never need jieba's dictionary; with none,
    every language's build needs it, and forks made after this start with it read.
    """
    words = install(search_options)
    if before_fork and (words is None or not words.remembers_any()):
        _load_dictionary()
    return words
