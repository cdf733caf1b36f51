"""The fast YAML reader gives exactly what ruamel's round-trip loader gives, or leaves the document to ruamel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from runbooks.findings import Unreadable
from runbooks.loader import _plain, read_yaml
from runbooks.yaml_lines import fast_data, fast_tree

from .conftest import ROOT


def _same(fast: Any, slow: Any, where: str = "$") -> None:
    if isinstance(slow, CommentedMap):
        assert isinstance(fast, CommentedMap), where
        assert list(fast) == list(slow), where
        assert (fast.lc.line, fast.lc.col) == (slow.lc.line, slow.lc.col), where
        assert (fast.lc.data or {}) == (slow.lc.data or {}), where
        for key in slow:
            _same(fast[key], slow[key], f"{where}.{key}")
    elif isinstance(slow, CommentedSeq):
        assert isinstance(fast, CommentedSeq), where
        assert len(fast) == len(slow), where
        assert (fast.lc.line, fast.lc.col) == (slow.lc.line, slow.lc.col), where
        assert (fast.lc.data or {}) == (slow.lc.data or {}), where
        for n, (a, b) in enumerate(zip(fast, slow, strict=True)):
            _same(a, b, f"{where}[{n}]")
    else:
        assert type(fast) is type(slow) or (isinstance(fast, str) and isinstance(slow, str)), (where, fast, slow)
        assert fast == slow or (fast != fast and slow != slow), where  # NaN is the one value unequal to itself
        assert getattr(fast, "__dict__", None) == getattr(slow, "__dict__", None), where  # a float's recorded format


REPOSITORY_YAML = sorted(
    [ROOT / "data" / name for name in ("providers.yaml", "team.yaml", "prices.yaml", "litellm/config.yaml")]
    + [ROOT / "runbooks" / "templates" / "labels.yaml"]
    + [p for p in (ROOT / "tests" / "fixtures" / "configs").rglob("*.yaml") if p.name != "syntax_error.yaml"]
)


@pytest.mark.parametrize("path", REPOSITORY_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_of_the_repository_reads_as_ruamel_reads_it(path: Path):
    text = path.read_text(encoding="utf-8")
    fast = fast_tree(text)
    slow = YAML(typ="rt").load(text)
    if fast is not None:
        _same(fast, slow)


def _same_plain(fast: Any, slow: Any, where: str = "$") -> None:
    assert type(fast) is type(slow), (where, type(fast), type(slow))
    if isinstance(slow, dict):
        assert list(fast) == list(slow), where
        for key in slow:
            _same_plain(fast[key], slow[key], f"{where}.{key}")
    elif isinstance(slow, list):
        assert len(fast) == len(slow), where
        for n, (a, b) in enumerate(zip(fast, slow, strict=True)):
            _same_plain(a, b, f"{where}[{n}]")
    else:
        assert fast == slow or (fast != fast and slow != slow), where
        assert getattr(fast, "__dict__", None) == getattr(slow, "__dict__", None), where


@pytest.mark.parametrize("path", REPOSITORY_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_plain_reading_is_what_validation_got_from_ruamel(path: Path):
    text = path.read_text(encoding="utf-8")
    fast = fast_data(text)
    if fast is not None:
        _same_plain(fast, _plain(YAML(typ="rt").load(text)))


def test_the_data_files_take_the_fast_path():
    for name in ("providers.yaml", "team.yaml", "prices.yaml"):
        text = (ROOT / "data" / name).read_text(encoding="utf-8")
        assert fast_tree(text) is not None and fast_data(text) is not None, name


SCALARS = """\
plain: text with spaces
quoted: "42"
single: 'yes'
number: 42
negative: -7
truth: true
yes_is_text: yes
on_is_text: on
nothing: null
tilde: ~
day: 2026-01-15
version: 1.10.0
zip: '0123'
price: 1.25
round: 10.0
small: .5
signed: -0.75
science: 1.5e+3
grouped: 1_000.5
infinite: -.inf
undefined: .nan
block: |
  first line
  second line
folded: >
  one
  two
items:
  - a
  - {inline: map, other: [1, 2]}
  - - nested
"""


def test_scalars_resolve_as_yaml_1_2():
    fast = fast_tree(SCALARS)
    assert fast is not None
    _same(fast, YAML(typ="rt").load(SCALARS))
    _same_plain(fast_data(SCALARS), _plain(YAML(typ="rt").load(SCALARS)))
    assert fast["yes_is_text"] == "yes" and fast["on_is_text"] == "on"
    assert fast["number"] == 42 and fast["truth"] is True and fast["nothing"] is None
    assert fast["day"] == dt.date(2026, 1, 15)
    assert fast["quoted"] == "42" and fast["zip"] == "0123" and fast["version"] == "1.10.0"
    assert fast["price"] == 1.25 and fast["science"] == 1500.0 and fast["infinite"] == float("-inf")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a duplicate key: ruamel's own error
        "base: &b {x: 1}\nother: *b\n",  # an alias
        "base: &b {x: 1}\nother:\n  <<: *b\n",  # a merge key
        "a: !custom 1\n",  # an explicit tag
        "a: 0o17\n",  # an octal number
        "a: 0123\n",  # digits with a leading zero
        "a:\nb: 1\n",  # an omitted value
        "a: [1\n",  # a syntax error
        "--- 1\n--- 2\n",  # several documents
        "%YAML 1.1\n---\na: yes\n",  # a version directive
        "? [a, b]\n: c\n",  # a complex key
        "",  # nothing at all
    ],
)
def test_what_the_fast_reader_does_not_reproduce_is_left_to_ruamel(text):
    assert fast_tree(text) is None and fast_data(text) is None


def test_errors_still_come_from_ruamel(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("providers:\n  a: 1\n  a: 2\n", encoding="utf-8")
    with pytest.raises(Unreadable) as raised:
        read_yaml(broken, "broken.yaml")
    assert "duplicate key" in raised.value.findings[0].message
    assert raised.value.findings[0].line == 3
