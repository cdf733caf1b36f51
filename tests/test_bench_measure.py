"""The benchmark's measurement: the gated builds are weighed by sampling their processes, timed commands are not."""

from __future__ import annotations

from bench import measure
from bench.commands import PYTHON, Command


def test_a_timed_command_is_not_sampled_and_still_has_its_exact_peak(monkeypatch):
    sampled: list[int] = []
    monkeypatch.setattr(measure, "tree_rss", lambda pid: sampled.append(pid) or 0)
    monkeypatch.setattr(measure, "RSS_SAMPLE_S", 0.01)
    sleeper = Command([PYTHON, "-c", "import time; time.sleep(0.3)"])
    timed = measure.measure(sleeper, sample_memory=False)
    assert timed.ok and timed.max_rss > 0
    assert sampled == []
    weighed = measure.measure(sleeper)
    assert weighed.ok and weighed.max_rss > 0
    assert sampled, "the weighed command's processes were never sampled"
