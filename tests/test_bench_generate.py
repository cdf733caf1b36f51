"""The benchmark's synthetic data: schema-valid, consistent with its proxy config, and never written into data/."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from bench import generate
from runbooks.checks.config import check_config
from runbooks.loader import load
from runbooks.site import Site

from .conftest import ROOT


@pytest.mark.parametrize("count", [1, 3, 7])
def test_generated_data_passes_the_schema_and_check_config(tmp_path, count):
    data_dir = generate.write(tmp_path, count)
    dataset = load(data_dir)
    providers = dataset.providers.providers
    assert list(providers) == [generate.provider_id(n) for n in range(1, count + 1)]
    for provider in providers.values():
        assert len(provider.models) == generate.MODELS_PER_PROVIDER
        assert len(provider.recharge_steps) == generate.RECHARGE_STEPS
        assert len(provider.faqs) == generate.FAQS_PER_PROVIDER
        for text in (provider.name, provider.summary, provider.faqs[0].answer):
            assert text.zh != text.en
    findings = check_config(data_dir / "litellm" / "config.yaml", dataset)
    assert findings == []
    assert sum(p.kind == "provider" for p in Site.of(dataset).pages) == count


def test_generated_data_is_dated_no_later_than_today(tmp_path):
    today = dt.date(2026, 3, 1)
    data = generate.generate(4, today=today)
    dates = [p["verified_on"] for p in data["providers"]["providers"].values()]
    assert max(dates) <= today and len(set(dates)) == len(dates)


def test_generator_refuses_no_providers_and_the_repository_data(tmp_path):
    with pytest.raises(ValueError):
        generate.generate(0)
    script = [sys.executable, str(ROOT / "bench" / "generate.py")]
    refused = subprocess.run([*script, "0", str(tmp_path)], capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "at least 1" in refused.stderr
    before = (ROOT / "data" / "providers.yaml").read_bytes()
    refused = subprocess.run([*script, "2", str(ROOT)], capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "data/" in refused.stderr
    assert (ROOT / "data" / "providers.yaml").read_bytes() == before
    written = subprocess.run([*script, "2", str(tmp_path)], capture_output=True, text=True, check=False)
    assert written.returncode == 0, written.stderr
    assert load(tmp_path / "data").providers.providers.keys() == {"provider-0001", "provider-0002"}
