"""The price snapshot: it covers the documented models, the site shows its numbers, sync-prices writes it."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from importlib import metadata
from pathlib import Path

import pytest

from runbooks import cli
from runbooks.findings import DataError, Unreadable, dotted
from runbooks.loader import load
from runbooks.prices import HEADER, lookup, per_million, usd
from runbooks.render import render
from runbooks.schema import LANGUAGES
from runbooks.site import Site

from .cli import Ran, run_cli
from .conftest import ROOT
from .factory import valid_data, write_data

PIN = re.compile(r"^litellm(\[[^\]]*\])?==(\S+)", re.M)


# --- The committed snapshot -------------------------------------------------------------------------


def test_snapshot_covers_every_documented_model(dataset):
    documented = {
        m.name: f"{p.litellm_prefix}/{m.upstream}" for p in dataset.providers.providers.values() for m in p.models
    }
    assert dataset.prices is not None
    assert {name: entry.litellm_model for name, entry in dataset.prices.models.items()} == documented


def test_snapshot_comes_from_the_pinned_litellm(dataset):
    pinned = PIN.search((ROOT / "requirements-litellm.txt").read_text(encoding="utf-8"))
    assert pinned, "requirements-litellm.txt pins no litellm"
    assert dataset.prices.source.package == "litellm"
    assert dataset.prices.source.version == pinned[2]
    assert dataset.prices.source.file == "litellm/model_prices_and_context_window_backup.json"


def _cells(markdown: str, header_start: str) -> list[list[str]]:
    """The body rows of the first Markdown table whose header row starts with `header_start`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _dollars(text: str) -> float:
    assert re.fullmatch(r"\$\d+\.\d{2,}", text), text
    return float(text[1:])


def _name(cell: str) -> str:
    return re.search(r"`([^`]+)`", cell)[1]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_cost_control_prices_equal_the_snapshot(dataset, lang):
    page = next(p for p in Site.of(dataset).pages if p.kind == "cost-control")
    markdown = render(page, Site.of(dataset), lang)
    header = markdown.splitlines()[
        next(i for i, line in enumerate(markdown.splitlines()) if "## " in line and "#prices" in line) + 4
    ]
    rows = _cells(markdown, header[:20])
    shown = {_name(row[0]): row for row in rows}
    assert set(shown) == set(dataset.prices.models)
    for name, entry in dataset.prices.models.items():
        row = shown[name]
        assert _dollars(row[2]) == entry.input_usd_per_mtok
        assert _dollars(row[3]) == entry.output_usd_per_mtok
        assert int(row[4].replace(",", "")) == entry.max_input_tokens
        assert int(row[5].replace(",", "")) == entry.max_output_tokens
    assert dataset.prices.source.version in markdown
    assert dataset.prices.source.synced_on.isoformat() in markdown


@pytest.mark.parametrize("lang", LANGUAGES)
def test_provider_pages_show_each_models_price(dataset, lang):
    for page in Site.of(dataset).pages:
        if page.kind != "provider":
            continue
        markdown = render(page, Site.of(dataset), lang)
        rows = _cells(markdown, "| " + markdown.split("## ")[2].splitlines()[2].split("|")[1].strip())
        provider = dataset.providers.providers[page.context["pid"]]
        assert [_name(row[0]) for row in rows] == [m.name for m in provider.models]
        for row in rows:
            entry = dataset.prices.models[_name(row[0])]
            price_in, price_out = (cell.strip() for cell in row[4].split("/"))
            assert (_dollars(price_in), _dollars(price_out)) == (entry.input_usd_per_mtok, entry.output_usd_per_mtok)
            assert int(row[5].replace(",", "")) == entry.max_input_tokens


def test_built_site_shows_prices(site, dataset):
    html = (site / "cost-control" / "index.html").read_text(encoding="utf-8")
    assert f"${dataset.prices.models['claude-sonnet-4.5'].output_usd_per_mtok:.2f}" in html
    english = (site / "en" / "providers" / "openai" / "index.html").read_text(encoding="utf-8")
    assert "USD per 1M tokens" in english


# --- A model LiteLLM does not price, and a stale snapshot --------------------------------------------


@pytest.mark.parametrize(("lang", "words"), [("zh", "LiteLLM 价格表中没有"), ("en", "not in LiteLLM's price map")])
def test_a_model_without_a_price_says_so(tmp_path, lang, words):
    dataset = load(write_data(tmp_path, valid_data()))
    unpriced = [name for name, entry in dataset.prices.models.items() if entry.price_map_key is None]
    assert unpriced == ["globex-chat"]
    for kind in ("cost-control", "provider"):
        page = next(p for p in Site.of(dataset).pages if p.kind == kind and p.context.get("pid", "globex") == "globex")
        row = next(
            line
            for line in render(page, Site.of(dataset), lang).splitlines()
            if line.startswith(("| [`globex-chat`]", "| `globex-chat`"))
        )
        assert words in row


def _load_problems(tmp_path, mutate) -> list:
    data = valid_data()
    mutate(data)
    with pytest.raises(DataError) as caught:
        load(write_data(tmp_path, data))
    return caught.value.findings


def test_a_documented_model_missing_from_the_snapshot_fails_at_the_model(tmp_path):
    (problem,) = _load_problems(tmp_path, lambda d: d["prices"]["models"].pop("acme-large"))
    assert problem.reason == "stale_prices"
    assert problem.file == "data/providers.yaml"
    assert dotted(problem.path) == "providers.acme.models[1].name"
    text = (tmp_path / "data" / "providers.yaml").read_text(encoding="utf-8").splitlines()
    assert "name: acme-large" in text[problem.line - 1]
    assert "data/prices.yaml has no entry for documented model 'acme-large'" in problem.message
    assert "make sync-prices" in problem.message


def test_a_snapshot_of_another_route_or_model_is_stale(tmp_path):
    def mutate(d):
        d["prices"]["models"]["acme-small"]["litellm_model"] = "acme/small-0"
        d["prices"]["models"]["retired-model"] = {"litellm_model": "acme/old", "price_map_key": None}

    problems = _load_problems(tmp_path, mutate)
    assert {dotted(p.path) for p in problems} == {"models.acme-small.litellm_model", "models.retired-model"}
    assert all(p.file == "data/prices.yaml" and p.reason == "stale_prices" for p in problems)


def test_no_prices_without_a_price_map_key(tmp_path):
    def mutate(d):
        d["prices"]["models"]["globex-chat"]["input_usd_per_mtok"] = 1.0

    (problem,) = _load_problems(tmp_path, mutate)
    assert dotted(problem.path) == "models.globex-chat"
    assert "price_map_key: null" in problem.message


def test_a_missing_snapshot_is_unreadable(tmp_path):
    data_dir = write_data(tmp_path, valid_data())
    (data_dir / "prices.yaml").unlink()
    with pytest.raises(Unreadable) as caught:
        load(data_dir)
    (finding,) = caught.value.findings
    assert (finding.file, finding.line, finding.message) == ("data/prices.yaml", 0, "file not found")


# --- Looking prices up the way LiteLLM does ----------------------------------------------------------

PRICE_MAP = {
    "gpt-9": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1.25e-06},
    "gemini-9-pro": {"litellm_provider": "vertex_ai-language-models", "input_cost_per_token": 9e-06},
    "gemini/gemini-9-pro": {"litellm_provider": "gemini", "input_cost_per_token": 1e-06},
    "deepseek/DeepSeek-Chat": {"litellm_provider": "deepseek", "input_cost_per_token": 2.8e-07},
}


@pytest.mark.parametrize(
    ("provider", "upstream", "key"),
    [
        ("openai", "gpt-9", "gpt-9"),  # bare name, provider matches
        ("gemini", "gemini-9-pro", "gemini/gemini-9-pro"),  # the prefixed key comes first
        ("deepseek", "deepseek-chat", "deepseek/DeepSeek-Chat"),  # case-insensitive, as LiteLLM
        ("zai", "gpt-9", None),  # the bare entry belongs to another provider
        ("vertex_ai", "gemini-9", None),  # not in the map, and not guessed from a longer name
    ],
)
def test_lookup_follows_litellm(provider, upstream, key):
    found = lookup(PRICE_MAP, provider, upstream)
    assert (found[0] if found else None) == key


def test_lookup_skips_a_bare_entry_of_another_provider():
    entries = {"gemini-9-flash": {"litellm_provider": "vertex_ai-language-models"}}
    assert lookup(entries, "gemini", "gemini-9-flash") is None


@pytest.mark.parametrize(
    ("per_token", "per_million_tokens", "shown"),
    [
        (1.25e-06, 1.25, "$1.25"),
        (1e-05, 10.0, "$10.00"),
        (2.8e-07, 0.28, "$0.28"),
        (7.5e-08, 0.075, "$0.075"),
        (0, 0.0, "$0.00"),
    ],
)
def test_prices_per_million_without_rounding_noise(per_token, per_million_tokens, shown):
    assert per_million(per_token) == per_million_tokens
    assert usd(per_million(per_token)) == shown


def test_a_price_that_is_not_a_number_is_none():
    assert per_million(None) is None and per_million("1e-6") is None and per_million(True) is None


# --- sync-prices -----------------------------------------------------------------------------------


def _fake_litellm(root: Path, entries: dict, version: str = "9.9.9") -> Path:
    """An installed `litellm` distribution with only its metadata and price map, on a path of its own."""
    site = root / "site-packages"
    package = site / "litellm"
    package.mkdir(parents=True)
    price_map = package / "model_prices_and_context_window_backup.json"
    price_map.write_text(json.dumps(entries), encoding="utf-8")
    info = site / f"litellm-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: litellm\nVersion: {version}\n", encoding="utf-8")
    record = ["litellm/model_prices_and_context_window_backup.json,,", f"litellm-{version}.dist-info/METADATA,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
    return site


def _sync(site: Path, *args: str) -> Ran:
    """`python -m runbooks sync-prices ARGS` from beside `site`, with the litellm installed there first on the path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        return run_cli("sync-prices", *args, cwd=site.parent)


FAKE_MAP = {
    "acme/small-1": {"litellm_provider": "acme", "mode": "chat", "input_cost_per_token": 1.5e-07,
                     "output_cost_per_token": 6e-07, "max_input_tokens": 128000, "max_output_tokens": 16384},
    "large-2": {"litellm_provider": "acme", "mode": "chat", "input_cost_per_token": 3e-06,
                "output_cost_per_token": 1.5e-05, "max_input_tokens": 200000, "max_output_tokens": 64000},
    "chat": {"litellm_provider": "someone-else", "input_cost_per_token": 1e-06},
}  # fmt: skip


def test_sync_prices_writes_the_snapshot_and_reports_what_the_map_lacks(tmp_path):
    data = valid_data()
    del data["prices"]
    data_dir = write_data(tmp_path, data)
    site = _fake_litellm(tmp_path, FAKE_MAP)
    result = _sync(site, "--data", str(data_dir), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (warning,) = report["warnings"]
    assert warning["reason"] == "not_in_price_map" and warning["model_name"] == "globex-chat"
    lines = (data_dir / "providers.yaml").read_text(encoding="utf-8").splitlines()
    assert warning["file"] == "data/providers.yaml" and "name: globex-chat" in lines[warning["line"] - 1]

    dataset = load(data_dir)
    assert dataset.prices.source.version == "9.9.9"
    small, large, chat = (dataset.prices.models[n] for n in ("acme-small", "acme-large", "globex-chat"))
    assert (small.price_map_key, small.input_usd_per_mtok, small.output_usd_per_mtok) == ("acme/small-1", 0.15, 0.6)
    assert (large.price_map_key, large.input_usd_per_mtok, large.max_input_tokens) == ("large-2", 3.0, 200000)
    assert chat.price_map_key is None and chat.input_usd_per_mtok is None
    assert (data_dir / "prices.yaml").read_text(encoding="utf-8").startswith(HEADER)

    assert _sync(site, "--data", str(data_dir), "--check").returncode == 0
    changed = _fake_litellm(
        tmp_path / "newer", {**FAKE_MAP, "large-2": {**FAKE_MAP["large-2"], "input_cost_per_token": 4e-06}}
    )
    stale = _sync(changed, "--data", str(data_dir), "--check")
    assert stale.returncode == 1
    assert "stale_prices" in stale.stderr and "'acme-large' changed" in stale.stderr
    assert "9.9.9" in (data_dir / "prices.yaml").read_text(encoding="utf-8"), "--check must not write"


def test_sync_prices_without_litellm_says_how_to_install_it(tmp_path, monkeypatch):
    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr("runbooks.prices.metadata.distribution", not_installed)
    data_dir = write_data(tmp_path, valid_data())
    before = (data_dir / "prices.yaml").read_text(encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["sync-prices", "--data", str(data_dir)])
    assert code == 2
    assert "make sync-prices" in err.getvalue() and "requirements-litellm.txt" in err.getvalue()
    assert "sync-prices: error" in out.getvalue()
    assert (data_dir / "prices.yaml").read_text(encoding="utf-8") == before


def test_sync_prices_works_on_a_stale_snapshot(tmp_path):
    data = valid_data()
    data["prices"]["models"].pop("acme-large")
    data_dir = write_data(tmp_path, data)
    site = _fake_litellm(tmp_path, FAKE_MAP)
    assert _sync(site, "--data", str(data_dir)).returncode == 0
    assert "acme-large" in load(data_dir).prices.models
