"""check-config against the pinned LiteLLM itself, deployment by deployment, on real configs and our fixtures.

LiteLLM loads each config with its own `ProxyConfig.get_config` and routes each deployment with its own
`litellm.get_llm_provider`; check-config must give the same verdict (loaded or refused) and report a deployment
as undocumented exactly when LiteLLM routes it outside the documented providers and models. Requests to the
documented models are sent through LiteLLM's own code, stopped before they leave the machine, to see the base
URL it really uses. Run with `make verify-live` (the venv that has litellm).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # the price map bundled with the pinned package

import httpx
import litellm
from litellm.litellm_core_utils.get_llm_provider_logic import declared_authenticating_provider
from litellm.proxy.proxy_server import ProxyConfig

from runbooks import litellm_tables
from runbooks.checks.config import (
    API_BASES,
    DEFAULT_KEY_VARIABLES,
    OPENAI_FORMAT,
    UNDOCUMENTED,
    check_config,
    route_model,
)
from runbooks.findings import Unreadable
from runbooks.proxy_config import read_proxy_config
from runbooks.rules import host_of

from ..conftest import ROOT

litellm.suppress_debug_info = True

CORPUS = ROOT / "tests" / "corpus" / "litellm-configs"
FIXTURES = ROOT / "tests" / "fixtures" / "configs"
SOURCES = yaml.safe_load((CORPUS / "SOURCES.yaml").read_text(encoding="utf-8"))["configs"]
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "LITELLM_LOCAL_MODEL_COST_MAP")
"""The only variables LiteLLM and check-config see here: no key, no base URL, nothing that changes a route."""


def corpus_configs() -> list[Path]:
    return [CORPUS / entry["dir"] / "config.yaml" for entry in SOURCES]


def fixture_configs() -> list[Path]:
    mains = [*FIXTURES.glob("*.yaml"), *FIXTURES.glob("*.yml"), *FIXTURES.glob("*/config.yaml")]
    return sorted(mains)


@contextlib.contextmanager
def environment(extra: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Run with only KEPT (and `extra`) in os.environ; restore it afterwards (LiteLLM writes to it)."""
    saved = dict(os.environ)
    clean = {name: saved[name] for name in KEPT if name in saved} | (extra or {})
    os.environ.clear()
    os.environ.update(clean)
    try:
        yield dict(clean)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def litellm_loads(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The config as LiteLLM's proxy loads it, or None and why it refuses to."""
    with environment(), contextlib.redirect_stdout(io.StringIO()):
        try:
            return dict(asyncio.run(ProxyConfig().get_config(config_file_path=str(path)))), ""
        except Exception as exc:  # whatever LiteLLM raises, it does not start
            return None, f"{type(exc).__name__}: {exc}"[:300]


@dataclass(frozen=True)
class Documented:
    """The data, indexed as the oracle needs it."""

    by_prefix: dict[str, str]
    by_host: dict[str, str]
    models: dict[str, tuple[str, str]]
    """Model name → (provider id, upstream)."""
    groups: dict[str, list[str]]

    @classmethod
    def of(cls, dataset: Any) -> Documented:
        providers = dataset.providers.providers
        return cls(
            by_prefix={p.litellm_prefix: pid for pid, p in providers.items()},
            by_host={h: pid for pid, p in providers.items() for h in p.api_hosts},
            models={m.name: (pid, m.upstream) for pid, p in providers.items() for m in p.models},
            groups={g.name: list(g.members) for g in dataset.team.model_groups},
        )


def litellm_routes(deployment: Any, credentials: dict[str, dict[str, Any]]) -> tuple[str, str, str | None] | None:
    """(provider, model sent, api_base) as LiteLLM routes a loaded deployment; None where it cannot."""
    if not isinstance(deployment, dict) or not isinstance(deployment.get("litellm_params"), dict):
        return None
    params = dict(deployment["litellm_params"])
    for key, value in credentials.get(str(params.get("litellm_credential_name")), {}).items():
        params.setdefault(key, value)  # load_credentials_from_list
    model, custom, api_base = params.get("model"), params.get("custom_llm_provider"), params.get("api_base")
    if not model:
        return None
    declared = declared_authenticating_provider(model, custom)
    if declared:  # what LiteLLM's metadata callers do, rather than start a login flow
        return declared, model.removeprefix(f"{declared}/"), api_base
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            sent, provider, _, _ = litellm.get_llm_provider(model=model, custom_llm_provider=custom, api_base=api_base)
        except Exception:  # get_llm_provider raises for a model it cannot route
            return None
    return (provider, sent, api_base) if provider else None


def routed_inside(deployment: Any, credentials: dict[str, dict[str, Any]], documented: Documented) -> bool:
    """Whether LiteLLM sends this deployment to a documented model of a documented provider."""
    route = litellm_routes(deployment, credentials)
    if route is None:
        return False
    provider, sent, api_base = route
    name = str(deployment.get("model_name") or "")
    if "*" in name or "*" in sent:
        return False  # a wildcard reaches models nobody documented
    if provider in OPENAI_FORMAT and api_base:
        pid = documented.by_host.get(host_of(api_base))
    else:
        pid = documented.by_prefix.get(provider)
    if pid is None:
        return False
    members = documented.groups.get(name, [name])
    return any(documented.models.get(member) == (pid, sent) for member in members)


def disagreements(path: Path, dataset: Any) -> tuple[list[str], int]:
    """Where check-config and LiteLLM disagree on one config, and how many deployments were compared."""
    loaded, why = litellm_loads(path)
    with environment() as env:
        try:
            findings = check_config(path, dataset, environ=env)
            refused = None
        except Unreadable as exc:
            findings, refused = [], exc.findings[0]
    if loaded is None or refused is not None:
        if (loaded is None) != (refused is not None):
            ours = f"refuses it ({refused})" if refused else "loads it"
            return [f"LiteLLM {'refuses it (' + why + ')' if loaded is None else 'loads it'}, check-config {ours}"], 0
        return [], 0
    documented = Documented.of(dataset)
    credentials = {
        str(c.get("credential_name")): dict(c.get("credential_values") or {})
        for c in loaded.get("credential_list") or []
        if isinstance(c, dict)
    }
    ours = read_proxy_config(path).items("model_list")
    theirs = loaded.get("model_list") or []
    if len(ours) != len(theirs):
        return [f"LiteLLM loads {len(theirs)} deployments, check-config reads {len(ours)}"], 0
    flagged = {(f.file, f.context.get("entry")) for f in findings if f.reason in UNDOCUMENTED}
    out = []
    for deployment, placed in zip(theirs, ours, strict=True):
        inside = routed_inside(deployment, credentials, documented)
        reported = (placed.file, placed.path) in flagged
        if inside == reported:
            where = f"{placed.file}:{placed.line} {deployment.get('model_name')!r}"
            model = (deployment.get("litellm_params") or {}).get("model")
            said = [str(f) for f in findings if (f.file, f.context.get("entry")) == (placed.file, placed.path)]
            out.append(f"{where} → {model}: LiteLLM routes it {'inside' if inside else 'outside'}; check-config {said}")
    return out, len(theirs)


# --- The corpus itself --------------------------------------------------------------------------------------


def test_the_corpus_is_at_least_40_real_configs_with_their_sources():
    assert len(SOURCES) >= 40
    dirs = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert dirs == {entry["dir"] for entry in SOURCES}
    for entry in SOURCES:
        assert "/" in entry["repo"], entry
        for file in entry["files"]:
            assert (CORPUS / entry["dir"] / file["local"]).is_file(), (entry["dir"], file)
            assert len(str(file["commit"])) == 40 and file["path"], (entry["dir"], file)


# --- Loaded or refused, and every deployment, as LiteLLM does -------------------------------------------------


@pytest.mark.parametrize("config", corpus_configs(), ids=lambda p: p.parent.name)
def test_check_config_agrees_with_litellm_on_a_real_config(config, dataset):
    problems, _ = disagreements(config, dataset)
    assert problems == []


@pytest.mark.parametrize("config", fixture_configs(), ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_check_config_agrees_with_litellm_on_a_fixture(config, dataset):
    problems, _ = disagreements(config, dataset)
    assert problems == []


def test_the_agreement_figure(dataset, capsys):
    configs = corpus_configs() + fixture_configs()
    compared = refused = 0
    failures: list[str] = []
    for config in configs:
        problems, count = disagreements(config, dataset)
        compared += count
        refused += count == 0 and not problems
        failures += [f"{config}: {p}" for p in problems]
    with capsys.disabled():
        print(
            f"\ncheck-config agrees with LiteLLM {litellm_tables.VERSION} on {len(configs) - len(failures)} of "
            f"{len(configs)} configs and on {compared} deployments ({refused} configs refused or without deployments)"
        )
    assert failures == []
    assert compared >= 500


# --- The routing tables and rules against the package ----------------------------------------------------


def test_the_generated_tables_are_what_the_pinned_litellm_gives():
    script = ROOT / "scripts" / "sync-litellm-tables"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert importlib.metadata.version("litellm") == litellm_tables.VERSION


def _litellm_route(model: str, custom: str | None = None, api_base: str | None = None) -> tuple[str, str] | None:
    route = litellm_routes(
        {"litellm_params": {"model": model, "custom_llm_provider": custom, "api_base": api_base}}, {}
    )
    return (route[0], route[1]) if route else None


def _route_cases() -> list[tuple[str, str | None, str | None]]:
    prefixes = sorted(litellm_tables.PROVIDERS | litellm_tables.JSON_PROVIDERS)
    cases: list[tuple[str, str | None, str | None]] = [(name, None, None) for name in litellm_tables.KNOWN_NAMES]
    cases += [(f"{p}/probe-model", None, None) for p in prefixes] + [(f"{p}/org/model", None, None) for p in prefixes]
    cases += [(p, None, None) for p in prefixes] + [("probe-model", p, None) for p in prefixes]
    for endpoint, _ in litellm_tables.COMPATIBLE_ENDPOINTS:
        url = endpoint if "://" in endpoint else f"https://{endpoint}"
        cases += [("probe-model", None, url), ("probe-model", None, url.rstrip("/") + "/extra")]
    cases += [(f"azure/{m}", None, None) for m in sorted(litellm_tables.AZURE_NON_OPENAI_MODELS)]
    cases += [(f"cohere/{m}", None, None) for m in sorted(litellm_tables.COHERE_CHAT_MODELS)]
    cases += [(f"ai21/{m}", None, None) for m in sorted(litellm_tables.AI21_CHAT_MODELS)]
    odd = ["ft:gpt-4o:acme::x1", "gpt-image-9", "claude-newfamily-5", "us.anthropic.claude-x", "*", "amazon_nova-x"]
    odd += ["a" * 70 + ":" + "b" * 64, "c" * 70 + ":" + "d" * 9, "ragflow/chat/id/gpt-4", "ragflow/other/id/m"]
    cases += [(m, None, None) for m in odd]
    cases += [("openrouter/anthropic/claude", "openrouter", None), ("openrouter/auto", "openrouter", None)]
    cases += [("gpt-5.1", None, "https://attacker.example/api.deepseek.com/v1")]
    return cases


def test_route_model_answers_as_get_llm_provider_does():
    cases = _route_cases()
    assert len(cases) > 1000
    differ = []
    for model, custom, api_base in cases:
        ours = route_model(model, custom, api_base)
        theirs = _litellm_route(model, custom, api_base)
        if (ours and (ours.litellm, ours.upstream)) != theirs:
            differ.append(((model, custom, api_base), theirs, ours))
    assert differ == []


# --- Where LiteLLM really sends each documented model --------------------------------------------------------


class Intercepted(Exception):
    """A request stopped before it left the machine."""


requests: list[httpx.Request] = []
"""The requests the `sent` fixture stopped, latest last, with their headers."""


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs LiteLLM sends requests to; each request is stopped in httpx's transport, so nothing leaves."""
    urls: list[str] = []
    requests.clear()

    def handle(self: Any, request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        requests.append(request)
        raise Intercepted(str(request.url))

    async def handle_async(self: Any, request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        requests.append(request)
        raise Intercepted(str(request.url))

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async)
    return urls


def send(urls: list[str], params: dict[str, Any]) -> str:
    """The URL of the request LiteLLM makes for one deployment's litellm_params."""
    urls.clear()
    call = {k: v for k, v in params.items() if k not in ("rpm", "tpm", "allowed_openai_params")}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
        litellm.completion(messages=[{"role": "user", "content": "ping"}], num_retries=0, max_retries=0, **call)
    assert urls, f"LiteLLM sent no request through httpx for {params.get('model')}"
    return urls[0]


def fake_keys(dataset: Any) -> dict[str, str]:
    return {p.env_var: f"fake-{p.env_var.lower()}" for p in dataset.providers.providers.values()}


def test_every_documented_model_is_sent_to_the_platform_whose_key_page_the_runbook_links(dataset, sent):
    """The sample config, loaded and sent by LiteLLM's own code: every request goes to its key platform's API."""
    with environment(fake_keys(dataset) | {"LITELLM_MASTER_KEY": "sk-fake-master"}):
        with contextlib.redirect_stdout(io.StringIO()):
            config = asyncio.run(ProxyConfig().get_config(config_file_path=str(ROOT / "data/litellm/config.yaml")))
        by_prefix = {p.litellm_prefix: p for p in dataset.providers.providers.values()}
        served = set()
        for deployment in config["model_list"]:
            params = dict(deployment["litellm_params"])
            provider = by_prefix[params["model"].split("/", 1)[0]]
            url = send(sent, params)
            platform = provider.key_platform
            assert platform is not None
            assert host_of(url) in provider.api_hosts, (deployment["model_name"], url)
            assert url.startswith(platform.api_base.rstrip("/") + "/"), (deployment["model_name"], url)
            # The runbook's API-key page is on that platform.
            assert host_of(provider.urls.api_keys) in platform.name("en")
            served.add(deployment["model_name"])
    documented = {m.name for p in dataset.providers.providers.values() for m in p.models}
    assert documented | {g.name for g in dataset.team.model_groups} <= served


def _one_deployment(tmp_path: Path, prefix: str, upstream: str, key: str, api_base: str | None) -> Path:
    lines = ["model_list:", "  - model_name: probe", "    litellm_params:", f"      model: {prefix}/{upstream}"]
    lines.append(f"      api_key: os.environ/{key}")
    if api_base:
        lines.append(f"      api_base: {api_base}")
    path = tmp_path / f"{prefix}-{abs(hash((api_base or '', key))) % 10**8}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("prefix", sorted(API_BASES))
def test_check_config_computes_the_base_url_litellm_sends_to(prefix, dataset, sent, tmp_path):
    """Without api_base, with each variable LiteLLM reads, with all of them, and with api_base: the same host."""
    variables, default = API_BASES[prefix]
    provider = next(p for p in dataset.providers.providers.values() if p.litellm_prefix == prefix)
    upstream = provider.models[0].upstream
    assert provider.litellm_api_base is not None
    assert (provider.litellm_api_base.env, provider.litellm_api_base.default) == (variables[0], default)
    scenarios: list[tuple[dict[str, str], str | None]] = [({}, None)]
    scenarios += [({v: f"https://only-{n}.probe.invalid/base"}, None) for n, v in enumerate(variables)]
    every = {v: f"https://every-{n}.probe.invalid/base" for n, v in enumerate(variables)}
    scenarios += [(every, None), (every, "https://explicit.probe.invalid/base")]
    for env, api_base in scenarios:
        with environment({provider.env_var: "fake-key"} | env) as seen:
            params = {"model": f"{prefix}/{upstream}", "api_key": "fake-key"}
            url = send(sent, params | ({"api_base": api_base} if api_base else {}))
            config = _one_deployment(tmp_path, prefix, upstream, provider.env_var, api_base)
            # Elsewhere than the key platform: a platform mismatch; for openai/ with an api_base, whose host decides
            # the provider, an undocumented provider.
            reasons = {"key_platform_mismatch", "undocumented_provider"}
            findings = [f for f in check_config(config, dataset, environ=seen) if f.reason in reasons]
        host = host_of(url)
        if host in provider.api_hosts:
            assert findings == [], (env, api_base, url, findings)
        else:
            assert [f.context["host"] for f in findings] == [host], (env, api_base, url, findings)
        if not env and not api_base:
            assert host == host_of(default)


@pytest.mark.parametrize("prefix", sorted(DEFAULT_KEY_VARIABLES))
def test_the_key_variables_check_config_infers_are_the_ones_litellm_reads(prefix, dataset, sent):
    """A deployment without api_key: LiteLLM sends the first of DEFAULT_KEY_VARIABLES that is set."""
    variables = DEFAULT_KEY_VARIABLES[prefix]
    provider = next(p for p in dataset.providers.providers.values() if p.litellm_prefix == prefix)
    model = f"{prefix}/{provider.models[0].upstream}"
    values = {v: f"fake-{v.lower().replace('_', '-')}-{n}x7q" for n, v in enumerate(variables)}
    for first in range(len(variables)):
        env = {v: values[v] for v in variables[first:]}
        with environment(env):
            send(sent, {"model": model})
        request = requests[-1]
        seen = str(request.url) + "\n" + "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        assert [v for v in variables if values[v] in seen] == [variables[first]], (prefix, env, seen)
