"""Check a LiteLLM proxy config against the documented providers: every deployment, key, secret and alias."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from runbooks.findings import Finding, Severity, Unreadable
from runbooks.litellm_tables import (
    BARE_NAME_FAMILIES,
    COMPATIBLE_ENDPOINTS,
    DEFAULT_KEY_VARIABLES,
    ENV_REFERENCE,
    LITELLM_PROVIDERS,
    OPENAI_FORMAT,
    PREFIX_HINTS,
    PROVIDER_NOTES,
    SECRET_WORDS,
)
from runbooks.loader import Dataset
from runbooks.proxy_config import Placed, ProxyConfig, key_line, parse_error, read_proxy_config, text
from runbooks.rules import host_of
from runbooks.schema import Model, Provider

# --- What the team documented ----------------------------------------------------------------------


@dataclass(frozen=True)
class Documented:
    """The documented providers, indexed the ways a deployment is looked up."""

    providers: dict[str, Provider]
    by_prefix: dict[str, str]
    by_host: dict[str, str]
    models: dict[str, tuple[str, Model]]
    """Documented model name → (provider id, model)."""

    @classmethod
    def of(cls, dataset: Dataset) -> Documented:
        """Index the providers of `dataset`."""
        providers = dict(dataset.providers.providers)
        return cls(
            providers=providers,
            by_prefix={p.litellm_prefix: pid for pid, p in providers.items()},
            by_host={host: pid for pid, p in providers.items() for host in p.api_hosts},
            models={m.name: (pid, m) for pid, p in providers.items() for m in p.models},
        )

    def model_string(self, name: str) -> str:
        """The documented `litellm_params.model` of a documented model name."""
        pid, model = self.models[name]
        return self.providers[pid].route(model)


# --- The check ---------------------------------------------------------------------------------------


def check_config(config: Path, dataset: Dataset, *, display_root: Path | None = None) -> list[Finding]:
    """Check every deployment, key, secret and alias of a LiteLLM proxy config against the documented providers."""
    proxy = read_proxy_config(Path(config), display_root=display_root)
    for key in ("model_list", "credential_list"):
        value = proxy.sections.get(key)
        if isinstance(value, Placed) and value.node is not None:
            raise Unreadable([parse_error(value, value.line, f"'{key}' must be a list", key)])
    documented = Documented.of(dataset)
    credentials = _credentials(proxy)
    findings: list[Finding] = []
    for deployment in proxy.items("model_list"):
        findings += _check_deployment(deployment, documented, credentials)
    findings += _literal_secrets(proxy)
    findings += _dangling_aliases(proxy)
    findings += _unserved_models(proxy, documented)
    return findings


@dataclass(frozen=True)
class Route:
    """Where LiteLLM sends a deployment: its provider name in LiteLLM and the model id after the prefix."""

    litellm: str
    upstream: str


def _check_deployment(entry: Placed, documented: Documented, credentials: dict[str, Placed]) -> list[Finding]:
    if not isinstance(entry.node, CommentedMap):
        return [_finding("unresolvable_provider", "a model_list entry must be a mapping", entry, entry.line, {})]
    model_name = text(entry.node.get("model_name"))
    params = entry.node.get("litellm_params")
    context: dict[str, Any] = {"model_name": model_name}
    if not isinstance(params, CommentedMap) or not isinstance(params.get("model"), str) or not params["model"]:
        line = key_line(params, "model", key_line(entry.node, "litellm_params", entry.line))
        message = f"'{model_name}' has no litellm_params.model, so LiteLLM cannot route it"
        return [_finding("unresolvable_provider", message, entry, line, {**context, "key": "litellm_params.model"})]

    model: str = params["model"]
    line = key_line(params, "model", entry.line)
    api_base = text(params.get("api_base")) or None
    custom = text(params.get("custom_llm_provider")) or None
    if model_name == "*" or (model == "*" and not custom):
        field = "model_name" if model_name == "*" else "litellm_params.model"
        here = key_line(entry.node, "model_name", line) if model_name == "*" else line
        message = f"catch-all route ({field}: '*'): clients can request any model of any provider through it"
        return [_finding("catch_all_route", message, entry, here, {**context, "key": field})]

    route = _route(model, custom, api_base)
    if route is None:
        message = f"'{model_name}' → {model}: {_unroutable(model, custom, documented)}"
        return [_finding("unresolvable_provider", message, entry, line, {**context, "key": "litellm_params.model"})]

    pid, problem = _serving_provider(route, api_base, documented)
    if pid is None:
        if model_name in documented.models:
            problem += f"; documented: {documented.model_string(model_name)}"
        host = host_of(api_base) if api_base and not api_base.startswith(ENV_REFERENCE) else None
        where = {**context, "provider": route.litellm, **({"host": host} if host else {})}
        return [_finding("undocumented_provider", f"'{model_name}' → {model}: {problem}", entry, line, where)]

    context["provider"] = pid
    findings: list[Finding] = []
    if "*" in model_name or "*" in route.upstream:
        message = (
            f"wildcard route '{model_name}' → {model}: clients can request any {pid} model through it, "
            "documented or not"
        )
        findings.append(_finding("catch_all_route", message, entry, line, context, severity="warning"))
    else:
        findings += _model_findings(entry, line, model_name, route, pid, documented, context)
    findings += _key_findings(entry, params, route, pid, documented, credentials, context)
    return findings


def _route(model: str, custom: str | None, api_base: str | None) -> Route | None:
    """The provider LiteLLM picks for `model`, following get_llm_provider; None where LiteLLM raises instead."""
    if custom and model.split("/", 1)[0] != custom:
        model = f"{custom}/{model}"
    prefix, slash, rest = model.partition("/")
    if slash and prefix in LITELLM_PROVIDERS:
        return Route(prefix, rest)
    for fragment, provider in COMPATIBLE_ENDPOINTS.items():
        if api_base and fragment in api_base:
            return Route(provider, model)
    if not slash:
        for pattern, provider in BARE_NAME_FAMILIES:
            if pattern.match(model):
                return Route(provider, model)
    return None


def _unroutable(model: str, custom: str | None, documented: Documented) -> str:
    if custom and model.split("/", 1)[0] != custom:
        model = f"{custom}/{model}"
    prefix, slash, rest = model.partition("/")
    upstream = rest if slash else model
    known = [documented.model_string(name) for name, (_, m) in documented.models.items() if m.upstream == upstream]
    suggestion = f" (documented: {known[0]})" if known else ""
    if not slash:
        return (
            f"LiteLLM cannot route the bare model name '{model}': only names in its own model lists "
            f"(gpt-…, claude-…, gemini-…) work without a provider prefix{suggestion}"
        )
    if prefix in PREFIX_HINTS:
        right, what = PREFIX_HINTS[prefix]
        return f"LiteLLM has no '{prefix}/' prefix; {what} use '{right}/' (write '{right}/{rest}')"
    return f"LiteLLM has no '{prefix}/' prefix, so it cannot route '{model}'{suggestion}"


def _serving_provider(route: Route, api_base: str | None, documented: Documented) -> tuple[str | None, str]:
    """The documented provider that really serves the route, or why none does."""
    from_environment = bool(api_base and api_base.startswith(ENV_REFERENCE))
    host = host_of(api_base) if api_base and not from_environment else None
    if route.litellm in OPENAI_FORMAT and from_environment:
        return None, f"api_base is read from {api_base}, so nothing here tells which provider serves it"
    if route.litellm in OPENAI_FORMAT and host:
        pid = documented.by_host.get(host)
        if pid is None:
            return None, f"api_base host '{host}' belongs to no documented provider"
        return pid, ""
    pid = documented.by_prefix.get(route.litellm)
    if pid is None:
        note = PROVIDER_NOTES.get(route.litellm)
        prefixes = ", ".join(f"{p}/" for p in sorted(documented.by_prefix))
        return None, (
            f"LiteLLM sends this to its '{route.litellm}' provider"
            + (f" ({note})" if note else "")
            + f", which no documented provider uses (documented prefixes: {prefixes})"
        )
    hosts = documented.providers[pid].api_hosts
    if host and host not in hosts:
        return (
            None,
            f"api_base sends {pid} requests to '{host}', which is not one of its api_hosts ({', '.join(hosts)})",
        )
    return pid, ""


def _model_findings(
    entry: Placed,
    line: int,
    model_name: str,
    route: Route,
    pid: str,
    documented: Documented,
    context: dict[str, Any],
) -> list[Finding]:
    if model_name not in documented.models:
        names = ", ".join(m.name for m in documented.providers[pid].models)
        message = f"'{model_name}' is not a documented {pid} model (documented: {names})"
        return [_finding("undocumented_model", message, entry, line, context)]
    owner, model = documented.models[model_name]
    upstream = model.upstream
    expected = documented.model_string(model_name)
    if owner != pid:
        message = f"'{model_name}' is documented under {owner} (expected {expected}), but this deployment goes to {pid}"
        return [_finding("undocumented_model", message, entry, line, context)]
    if route.upstream != upstream:
        message = f"'{model_name}' sends upstream model '{route.upstream}', expected {expected}"
        return [_finding("undocumented_model", message, entry, line, context)]
    return []


def _key_findings(
    entry: Placed,
    params: CommentedMap,
    route: Route,
    pid: str,
    documented: Documented,
    credentials: dict[str, Placed],
    context: dict[str, Any],
) -> list[Finding]:
    """Check that the deployment's key comes from the provider's documented variable, as LiteLLM resolves it."""
    name = context["model_name"]
    expected = documented.providers[pid].env_var
    context = {**context, "expected": expected}
    if params.get("api_key") is not None:
        line = key_line(params, "api_key", entry.line)
        return _variable_findings(params["api_key"], f"'{name}': api_key", expected, entry, line, context)

    if params.get("litellm_credential_name") is not None:
        # An api_key in litellm_params wins; credential values only fill what the deployment leaves out
        # (load_credentials_from_list in litellm/utils.py).
        credential_name = text(params["litellm_credential_name"])
        line = key_line(params, "litellm_credential_name", entry.line)
        context["credential"] = credential_name
        credential = credentials.get(credential_name)
        if credential is None:
            message = f"'{name}': no credential named '{credential_name}' in credential_list"
            return [_finding("env_var_mismatch", message, entry, line, {**context, "key": "litellm_credential_name"})]
        values = credential.node.get("credential_values")
        if isinstance(values, CommentedMap) and values.get("api_key") is not None:
            label = f"'{name}': credential '{credential_name}'"
            return _variable_findings(values["api_key"], label, expected, entry, line, context)

    defaults = DEFAULT_KEY_VARIABLES.get(route.litellm, ())
    line = key_line(params, "model", entry.line)
    if not defaults:
        message = (
            f"'{name}': no api_key, and LiteLLM's {route.litellm} provider has no default variable for {pid}; "
            f"write api_key: os.environ/{expected}"
        )
        return [_finding("env_var_mismatch", message, entry, line, {**context, "key": expected})]
    if defaults[0] == expected:
        return []
    if expected in defaults:
        message = (
            f"'{name}': no api_key: LiteLLM reads {defaults[0]} before {expected}, so {defaults[0]} wins whenever "
            f"it is set; write api_key: os.environ/{expected}"
        )
        where = {**context, "key": defaults[0], "inferred": True}
        return [_finding("env_var_mismatch", message, entry, line, where, severity="warning")]
    message = (
        f"'{name}': no api_key: LiteLLM reads {' or '.join(defaults)} by default, but the team keeps this key in "
        f"{expected}; write api_key: os.environ/{expected}"
    )
    return [_finding("env_var_mismatch", message, entry, line, {**context, "key": defaults[0], "inferred": True})]


def _variable_findings(
    value: Any, label: str, expected: str, entry: Placed, line: int, context: dict[str, Any]
) -> list[Finding]:
    if not isinstance(value, str) or not value.startswith(ENV_REFERENCE):
        return []  # a literal: reported once, as literal_secret, where it is written
    variable = value.removeprefix(ENV_REFERENCE)
    if variable == expected:
        return []
    message = f"{label} reads {variable or 'an empty variable name'}, but the team keeps this key in {expected}"
    return [_finding("env_var_mismatch", message, entry, line, {**context, "key": variable})]


def _credentials(proxy: ProxyConfig) -> dict[str, Placed]:
    named: dict[str, Placed] = {}
    for item in proxy.items("credential_list"):
        if isinstance(item.node, CommentedMap) and item.node.get("credential_name") is not None:
            named.setdefault(text(item.node["credential_name"]), item)
    return named


# --- Secrets, aliases and coverage ---------------------------------------------------------------------


def _literal_secrets(proxy: ProxyConfig) -> list[Finding]:
    """Every literal value under a secret-named setting, in every file read (a literal is a leak wherever it is)."""
    findings: list[Finding] = []
    seen: set[tuple[str, int, str]] = set()
    for tree in proxy.trees:
        for path, key, value, line in _secret_settings(tree.node, ""):
            if (tree.file, line, key) in seen:
                continue  # the same anchor merged into several places
            seen.add((tree.file, line, key))
            fix = (
                "set it in the proxy's environment (api_keys.env) instead"
                if path.startswith("environment_variables.")
                else f"keep it in the environment and write {key}: os.environ/<VARIABLE>"
            )
            message = f"{path} holds a literal secret ({_masked(value)}); {fix}"
            findings.append(Finding("literal_secret", message, tree.file, line, context={"key": path}))
    return findings


def _secret_settings(node: Any, path: str) -> Iterator[tuple[str, str, Any, int]]:
    """(YAML path, key, literal value, line) of each literal under a secret-named key, at any depth."""
    if isinstance(node, CommentedMap):
        for key in node:
            value, here = node[key], f"{path}.{key}" if path else str(key)
            if isinstance(value, CommentedMap | CommentedSeq):
                yield from _secret_settings(value, here)
            elif _is_secret_name(str(key)) and _is_literal(value):
                yield here, str(key), value, key_line(node, key)
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            yield from _secret_settings(item, f"{path}[{i}]")


def _is_secret_name(name: str) -> bool:
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    return words[-1] in SECRET_WORDS


def _is_literal(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip()) and not value.startswith(ENV_REFERENCE)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _masked(value: Any) -> str:
    """Enough of a secret to recognise which one it is, never enough to use it."""
    text = str(value)
    return f"'{text[:3]}…'" if len(text) > 8 else "'…'"


def _dangling_aliases(proxy: ProxyConfig) -> list[Finding]:
    settings = proxy.mapping("router_settings")
    if settings is None or not isinstance(settings.node.get("model_group_alias"), CommentedMap):
        return []
    groups = {text(d.node.get("model_name")) for d in proxy.items("model_list") if isinstance(d.node, CommentedMap)}
    patterns = [re.compile(".*".join(map(re.escape, g.split("*")))) for g in groups if "*" in g]
    aliases: CommentedMap = settings.node["model_group_alias"]
    findings = []
    for alias in aliases:
        value = aliases[alias]
        # Two forms: `alias: target` and `alias: {model: target, hidden: true}` (RouterModelGroupAliasItem,
        # litellm/types/router.py).
        target = text(value.get("model")) if isinstance(value, CommentedMap) else text(value)
        if target in groups or any(p.fullmatch(target) for p in patterns):
            continue
        key = f"router_settings.model_group_alias.{alias}"
        message = (
            f"alias '{alias}' points to '{target}', which no model_list entry serves"
            if target
            else f"alias '{alias}' names no target model"
        )
        line = key_line(aliases, alias, settings.line)
        findings.append(
            Finding("dangling_alias", message, settings.file, line, context={"model_name": target, "key": key})
        )
    return findings


def _unserved_models(proxy: ProxyConfig, documented: Documented) -> list[Finding]:
    served = {text(d.node.get("model_name")) for d in proxy.items("model_list") if isinstance(d.node, CommentedMap)}
    line = key_line(proxy.main.node, "model_list", 1)
    return [
        Finding(
            "unserved_model",
            f"documented model '{name}' ({documented.model_string(name)}) is not served by any model_list entry",
            proxy.main.file,
            line,
            severity="warning",
            context={"model_name": name, "provider": pid},
        )
        for name, (pid, _) in documented.models.items()
        if name not in served
    ]


def _finding(
    reason: str, message: str, entry: Placed, line: int, context: dict[str, Any], *, severity: Severity = "error"
) -> Finding:
    return Finding(reason, message, entry.file, line, severity, {**context, "entry": entry.path})
