"""Copy the documented models' prices from LiteLLM's bundled price map into data/prices.yaml, and format them."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runbooks.findings import Finding, Unreadable, display_path
from runbooks.loader import Dataset
from runbooks.schema import ModelPrice, PricesFile, PriceSource

PACKAGE = "litellm"
"""The distribution whose price map is copied."""

PRICE_MAP = "litellm/model_prices_and_context_window_backup.json"
"""The price map inside the package: the copy LiteLLM itself falls back to offline (litellm/__init__.py)."""

REQUIREMENTS = "requirements-litellm.txt"
"""Where the pinned LiteLLM version is written."""

INSTALL_HINT = (
    f"run `make sync-prices`, which installs the pinned LiteLLM from {REQUIREMENTS} into .venv-litellm and "
    f"runs this command there, or install it yourself: pip install -r {REQUIREMENTS}"
)

HEADER = """\
# yaml-language-server: $schema=../schemas/prices.schema.json
# LiteLLM's prices of the documented models, copied from the price map bundled with the litellm package.
# Written by `make sync-prices` (python -m runbooks sync-prices); do not edit by hand.
# Prices are US dollars per million tokens; price_map_key: null means the model is not in LiteLLM's price map.
"""

PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class PriceMap:
    """LiteLLM's price map as shipped in an installed package: its entries, version and file."""

    entries: dict[str, Any]
    version: str
    file: str


def installed_price_map(package: str = PACKAGE) -> PriceMap:
    """Read the price map of the installed LiteLLM without importing it; raise Unreadable if it is not there."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        message = f"LiteLLM is not installed in this Python, so there is no price map to copy; {INSTALL_HINT}"
        raise Unreadable([Finding("litellm_missing", message, REQUIREMENTS)]) from None
    found = [f for f in dist.files or [] if f.as_posix() == PRICE_MAP]
    path = Path(str(dist.locate_file(found[0]))) if found else None
    if path is None or not path.is_file():
        message = f"litellm {dist.version} is installed but has no {PRICE_MAP}; {INSTALL_HINT}"
        raise Unreadable([Finding("litellm_missing", message, REQUIREMENTS)])
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable([Finding("parse_error", f"cannot read LiteLLM's price map: {exc}", str(path))]) from None
    if not isinstance(entries, dict):
        raise Unreadable([Finding("parse_error", "LiteLLM's price map is not a JSON object", str(path))])
    return PriceMap(entries, dist.version, PRICE_MAP)


def lookup(entries: dict[str, Any], provider: str, upstream: str) -> tuple[str, dict[str, Any]] | None:
    """The price-map key and entry LiteLLM uses for `provider/upstream`, or None if the map has none.

    Follows get_model_info_helper in litellm/utils.py for a deployment whose provider is known: first
    `provider/upstream`, then the bare `upstream`, each exactly and then case-insensitively, and only an entry
    whose `litellm_provider` is that provider (a bare `gemini-2.5-pro` is a Vertex AI entry, not AI Studio's).
    Nothing is stripped or guessed: a model under another name is reported as missing.
    """
    lowercase = {key.lower(): key for key in entries}
    for candidate in (f"{provider}/{upstream}", upstream):
        key = candidate if candidate in entries else lowercase.get(candidate.lower())
        if key is None:
            continue
        entry = entries[key]
        if isinstance(entry, dict) and entry.get("litellm_provider") in (None, provider):
            return key, entry
    return None


def per_million(cost_per_token: Any) -> float | None:
    """A price per token from the map as US dollars per million tokens, without binary rounding noise."""
    if isinstance(cost_per_token, bool) or not isinstance(cost_per_token, int | float):
        return None
    return float(Decimal(repr(cost_per_token)) * PER_MILLION)


def snapshot(dataset: Dataset, price_map: PriceMap, today: dt.date | None = None) -> tuple[PricesFile, list[Finding]]:
    """The price snapshot of every documented model, and a finding for each model the map lacks."""
    models: dict[str, ModelPrice] = {}
    findings: list[Finding] = []
    for pid, provider in dataset.providers.providers.items():
        for n, model in enumerate(provider.models):
            litellm_model = provider.route(model)
            found = lookup(price_map.entries, provider.litellm_prefix, model.upstream)
            if found is None:
                file, line = dataset.where("providers", ("providers", pid, "models", n, "name"))
                message = (
                    f"'{model.name}' ({litellm_model}) is not in the price map of litellm {price_map.version}; "
                    "the site shows it as not priced"
                )
                context = {"model_name": model.name, "provider": pid}
                findings.append(Finding("not_in_price_map", message, file, line, "warning", context))
                models[model.name] = ModelPrice(litellm_model=litellm_model, price_map_key=None)
                continue
            key, entry = found
            models[model.name] = ModelPrice(
                litellm_model=litellm_model,
                price_map_key=key,
                mode=_text(entry.get("mode")),
                input_usd_per_mtok=per_million(entry.get("input_cost_per_token")),
                output_usd_per_mtok=per_million(entry.get("output_cost_per_token")),
                max_input_tokens=_tokens(entry.get("max_input_tokens")),
                max_output_tokens=_tokens(entry.get("max_output_tokens")),
            )
    source = PriceSource(
        package=PACKAGE, version=price_map.version, file=price_map.file, synced_on=today or dt.date.today()
    )
    return PricesFile(source=source, models=models), findings


def dump(prices: PricesFile) -> str:
    """The snapshot as the YAML text of data/prices.yaml."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    out = io.StringIO()
    out.write(HEADER)
    yaml.dump(prices.model_dump(), out)
    return out.getvalue()


def differences(old: PricesFile, new: PricesFile) -> list[str]:
    """What changed between two snapshots, ignoring the day they were synced."""
    changes = []
    if old.source.version != new.source.version:
        changes.append(f"litellm {old.source.version} → {new.source.version}")
    for name in old.models.keys() | new.models.keys():
        before, after = old.models.get(name), new.models.get(name)
        if before != after:
            changes.append(f"'{name}' changed" if before and after else f"'{name}' {'added' if after else 'removed'}")
    return sorted(changes)


def sync_prices(
    data_dir: Path, dataset: Dataset, *, check: bool = False, display_root: Path | None = None
) -> tuple[list[Finding], str]:
    """Write (or, with `check`, compare) data/prices.yaml from the installed LiteLLM; return findings and a summary."""
    price_map = installed_price_map()
    new, findings = snapshot(dataset, price_map)
    target = data_dir / "prices.yaml"
    name = display_path(target, display_root)
    if check:
        from runbooks.loader import DataError, load

        try:
            old = load(data_dir, display_root=display_root).prices
        except DataError as exc:
            stale = [
                Finding(p.reason, f"{p.path}: {p.message}" if p.path else p.message, p.file, p.line)
                for p in exc.problems
            ]
            return findings + stale, f"{name} does not match the data"
        changes = differences(old, new) if old else ["no snapshot"]
        if changes:
            message = (
                f"differs from the price map of litellm {price_map.version}: {'; '.join(changes)}; "
                "run `make sync-prices`"
            )
            findings.append(Finding("stale_prices", message, name, 1))
            return findings, f"{name} is stale"
        return findings, f"{name} matches litellm {price_map.version}"
    target.write_text(dump(new), encoding="utf-8")
    priced = sum(1 for m in new.models.values() if m.price_map_key)
    return findings, f"wrote {name}: {priced} of {len(new.models)} models priced by litellm {price_map.version}"


# --- How the site shows a price ---------------------------------------------------------------------


def usd(value: float | None) -> str | None:
    """US dollars with at least two decimals and no binary noise: 1.25 → "$1.25", 10 → "$10.00", 0.075 → "$0.075"."""
    if value is None:
        return None
    text = f"{Decimal(repr(value)).normalize():f}"
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def tokens(value: int | None) -> str | None:
    """A token count with thousands separators: 1048576 → "1,048,576"."""
    return None if value is None else f"{value:,}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _tokens(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
