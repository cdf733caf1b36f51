"""Check a LiteLLM proxy config against the docs: every deployment's route, model, key, base URL, and secrets."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from runbooks import litellm_tables as tables
from runbooks.findings import Finding, Severity, Unreadable
from runbooks.loader import Dataset
from runbooks.proxy_config import Placed, ProxyConfig, key_line, parse_error, read_proxy_config, text
from runbooks.rules import host_of
from runbooks.schema import Model, ModelGroup, Provider

# --- What LiteLLM does that is logic rather than a table ----------------------------------------------------
# runbooks/litellm_tables.py holds what is read from the package (`make sync-litellm`); the rest is below, each
# with the place in the pinned LiteLLM it follows. tests/live checks both against the package itself.

ENV_REFERENCE = "os.environ/"
"""How a LiteLLM config reads a value from the environment (resolved by get_secret when the proxy loads)."""

OPENAI_FORMAT = frozenset({"openai", "custom_openai"})
"""LiteLLM providers that speak OpenAI's API to whatever host api_base names: the host decides who serves them."""

DEFAULT_KEY_VARIABLES = {
    # What LiteLLM reads, in order, when a deployment names no api_key:
    "openai": ("OPENAI_API_KEY",),  # litellm/main.py: api_key or litellm.api_key or OPENAI_API_KEY
    "anthropic": ("ANTHROPIC_API_KEY",),  # litellm/llms/anthropic/common_utils.py get_api_key
    "gemini": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),  # litellm/llms/gemini/common_utils.py get_api_key
    "deepseek": ("DEEPSEEK_API_KEY",),  # litellm/litellm_core_utils/get_llm_provider_logic.py
    "zai": ("ZAI_API_KEY",),  # litellm/llms/zai/chat/transformation.py
}

API_BASES: dict[str, tuple[tuple[str, ...], str]] = {
    # Where LiteLLM sends a deployment without api_base: the first of these variables that is set, else the default.
    "openai": (("OPENAI_BASE_URL", "OPENAI_API_BASE"), "https://api.openai.com/v1"),  # litellm/main.py completion
    "anthropic": (("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"), "https://api.anthropic.com"),  # litellm/main.py
    "gemini": (("GEMINI_API_BASE",), "https://generativelanguage.googleapis.com"),  # llms/vertex_ai/…/gemini
    "deepseek": (("DEEPSEEK_API_BASE",), "https://api.deepseek.com/beta"),  # get_llm_provider_logic.py
    "zai": (("ZAI_API_BASE",), "https://api.z.ai/api/paas/v4"),  # llms/zai/chat/transformation.py ZAI_API_BASE
}

PREFIX_HINTS = {
    # Prefixes people write that LiteLLM does not have, and the one it does.
    "zhipu": ("zai", "Zhipu GLM models"),
    "zhipuai": ("zai", "Zhipu GLM models"),
    "bigmodel": ("zai", "Zhipu GLM models"),
    "glm": ("zai", "Zhipu GLM models"),
    "z-ai": ("zai", "Zhipu GLM models"),
    "google": ("gemini", "Google AI Studio (Gemini API) models"),
    "google_ai_studio": ("gemini", "Google AI Studio (Gemini API) models"),
    "claude": ("anthropic", "Claude models"),
}

PROVIDER_NOTES = {
    # LiteLLM providers that are easily mistaken for a documented one.
    "vertex_ai": "Google Cloud Vertex AI, billed through Google Cloud, not the documented Gemini API (AI Studio)",
    "vertex_ai_beta": "Google Cloud Vertex AI, not the documented Gemini API (AI Studio)",
    "azure": "Azure OpenAI, billed through Azure, not OpenAI",
    "azure_ai": "Azure AI Foundry, billed through Azure",
    "openrouter": "OpenRouter, a reseller with its own billing",
    "bedrock": "AWS Bedrock, billed through AWS",
    "anthropic_text": "Anthropic's legacy text-completion API",
}

SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd"})
"""A setting whose name ends in one of these words may hold a secret (api_key, master_key, redis_password…)."""

PLACEHOLDER_WORDS = frozenset(
    {"none", "null", "nil", "empty", "dummy", "fake", "placeholder", "unused", "not", "no", "needed", "required"}
    | {"any", "anything", "will", "do", "key", "api", "my", "your", "here", "sk", "xxx", "redacted", "changeme"}
)
"""Words a value made only of is a placeholder (`fake-key`, `not-needed`, `EMPTY`), not a secret."""

MIN_SECRET_LENGTH = 6
"""A shorter value is no secret worth the name (`none`, `EMPTY`, `a`); `sk-1234` is one, and a weak one."""

UNDOCUMENTED = frozenset({"undocumented_provider", "undocumented_model", "unresolvable_provider", "catch_all_route"})
"""Reasons that say a deployment sends requests outside the documented providers and models."""

GROUPS_FILE = "data/team.yaml"


# --- Where LiteLLM sends a model string -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """Where LiteLLM sends a deployment: its provider name in LiteLLM and the model id it sends that provider."""

    litellm: str
    upstream: str


def route_model(
    model: str, custom: str | None = None, api_base: str | None = None, *, use_proxy: bool = False
) -> Route | None:
    """The provider litellm.get_llm_provider picks for a model string; None where it raises or names none.

    The order of the checks is get_llm_provider's (litellm/litellm_core_utils/get_llm_provider_logic.py); the
    lists it consults are runbooks/litellm_tables.py.
    """
    if not model:
        return None
    if use_proxy:  # LiteLLMProxyChatConfig.should_use_litellm_proxy_by_default
        return Route("litellm_proxy", model)
    declared = custom or (model.split("/", 1)[0] if "/" in model else None)
    if declared in tables.AUTHENTICATING_PROVIDERS:  # declared_authenticating_provider: no login flow is run
        return Route(declared, model.removeprefix(f"{declared}/"))
    head, slash, rest = model.partition("/")
    if head == "azure" and slash and rest in tables.AZURE_NON_OPENAI_MODELS:  # is_non_openai_azure_model
        return Route("openai", model)
    model, custom = _renamed(model, custom, "cohere", tables.COHERE_CHAT_MODELS, "cohere_chat")
    model, custom = _renamed(model, custom, "anthropic", tables.ANTHROPIC_TEXT_MODELS, "anthropic_text")
    if custom and model.split("/")[0] != custom:
        model = f"{custom}/{model}"
    if custom == "openrouter" and model.startswith("openrouter/"):
        remainder = model.removeprefix("openrouter/")
        return Route("openrouter", remainder if "/" in remainder else model)
    head, slash, rest = model.partition("/")
    if slash and head in tables.JSON_PROVIDERS:
        return Route(head, rest)
    if head in tables.PROVIDERS:
        if not slash:
            return None  # `model.split("/", 1)[1]` raises: a provider's bare name is no model
        if head in tables.MODEL_NAME_PROVIDERS:
            return Route(head, rest)
        return _compatible_route(head, rest)
    if api_base:
        for endpoint, provider in tables.COMPATIBLE_ENDPOINTS:
            if _endpoint_matches(endpoint, api_base):
                return Route(provider, model) if provider else None
    provider = _bare_provider(model)
    return Route(provider, model) if provider else None


def _renamed(
    model: str, custom: str | None, family: str, models: frozenset[str] | set[str], to: str
) -> tuple[str, str | None]:
    """A `family` model LiteLLM serves through provider `to` instead (handle_cohere_chat_model_custom_llm_provider,
    handle_anthropic_text_model_custom_llm_provider): the model without its prefix, and `to`."""
    if custom == family and model in models:
        return model, to
    head, slash, rest = model.partition("/")
    if slash and head == family and rest in models:
        return rest, to
    return model, custom


def _compatible_route(prefix: str, rest: str) -> Route | None:
    """_get_openai_compatible_provider_info: the prefixes it renames or refuses (azure_ai is kept as azure_ai)."""
    if prefix == "ai21" and rest in tables.AI21_CHAT_MODELS:
        return Route("ai21_chat", rest)
    if prefix == "ragflow":  # RAGFlowConfig._parse_ragflow_model: ragflow/{chat|agent}/{id}/{model}
        parts = rest.split("/")
        return Route(prefix, f"{prefix}/{rest}") if len(parts) >= 3 and parts[0] in ("chat", "agent") else None
    return Route(prefix, rest)


def _endpoint_matches(endpoint: str, api_base: str) -> bool:
    """_endpoint_matches_api_base: the same host, and the api_base's path starts with the endpoint's path."""

    def parse(value: str) -> Any:
        return urlparse(value if "://" in value else f"https://{value}")

    want, have = parse(endpoint), parse(api_base)
    host = (want.hostname or "").lower()
    if not host or host != (have.hostname or "").lower():
        return False
    path = want.path.rstrip("/")
    if not path:
        return True
    other = have.path.rstrip("/")
    return other == path or other.startswith(path + "/")


def _bare_provider(model: str) -> str | None:
    """A model string without a known prefix: the model lists, then get_llm_provider's name rules, then its regexes."""
    if model in tables.KNOWN_NAMES:
        return tables.KNOWN_NAMES[model]
    if "ft:gpt-3.5-turbo" in model or "ft:gpt-4" in model or model.startswith("gpt-image"):
        return "openai"
    if ":" in model and len(model) > tables.REPLICATE_ID_LENGTH:
        parts = model.split(":")
        return "replicate" if len(parts) > 1 and len(parts[1]) == tables.REPLICATE_ID_LENGTH else _generalized(model)
    if model == "*":
        return "openai"
    if model.startswith("amazon_nova"):
        return "amazon_nova"
    return _generalized(model)


def _generalized(model: str) -> str | None:
    """match_routing_generalization: the first of the price map's routing rules that matches."""
    for pattern, provider in _ROUTING_RULES:
        if pattern.search(model):
            return provider
    return None


_ROUTING_RULES = tuple((re.compile(pattern, re.IGNORECASE), provider) for pattern, provider in tables.ROUTING_RULES)


# --- What the team documented ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Documented:
    """The documented providers and model groups, indexed the ways a deployment is looked up."""

    providers: dict[str, Provider]
    by_prefix: dict[str, str]
    by_host: dict[str, str]
    models: dict[str, tuple[str, Model]]
    """Documented model name → (provider id, model)."""
    groups: dict[str, ModelGroup]

    @classmethod
    def of(cls, dataset: Dataset) -> Documented:
        """Index the providers and groups of `dataset`."""
        providers = dict(dataset.providers.providers)
        return cls(
            providers=providers,
            by_prefix={p.litellm_prefix: pid for pid, p in providers.items()},
            by_host={host: pid for pid, p in providers.items() for host in p.api_hosts},
            models={m.name: (pid, m) for pid, p in providers.items() for m in p.models},
            groups={g.name: g for g in dataset.team.model_groups},
        )

    def model_string(self, name: str) -> str:
        """The documented `litellm_params.model` of a documented model name."""
        pid, model = self.models[name]
        return self.providers[pid].route(model)

    def member_matching(self, group: ModelGroup, pid: str, upstream: str) -> str | None:
        """The member of `group` that provider `pid` serves as `upstream`, if any."""
        for name in group.members:
            owner, model = self.models[name]
            if owner == pid and model.upstream == upstream:
                return name
        return None

    def model_matching(self, pid: str, upstream: str) -> str | None:
        """The documented model that provider `pid` serves as `upstream`, if any."""
        for name, (owner, model) in self.models.items():
            if owner == pid and model.upstream == upstream:
                return name
        return None


class Environment:
    """The variables LiteLLM would see: the process's, overridden by the config's `environment_variables`."""

    def __init__(self, environ: Mapping[str, str], proxy: ProxyConfig) -> None:
        self.values = dict(environ)
        settings = proxy.mapping("environment_variables")
        if settings is not None:
            for name, value in settings.node.items():
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    self.values[str(name)] = str(value)

    def get(self, name: str) -> str | None:
        """The value of variable `name`, None when unset or empty (get_secret treats both alike)."""
        return self.values.get(name) or None

    def resolve(self, value: Any) -> str | None:
        """A setting as LiteLLM reads it: `os.environ/NAME` becomes that variable's value (None if unset)."""
        if value is None:
            return None
        value = str(value)
        if value.startswith(ENV_REFERENCE):
            return self.get(value.removeprefix(ENV_REFERENCE))
        return value or None


# --- The check --------------------------------------------------------------------------------------------------


def check_config(
    config: Path | ProxyConfig,
    dataset: Dataset,
    *,
    display_root: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Check every deployment, key, base URL, secret and alias of a LiteLLM proxy config against the docs.

    `config` is the config's path, or the config as `read_proxy_config` read it. `environ` is the
    environment the proxy would run in (default: this process's); it decides where a deployment
    without api_base is sent, as LiteLLM reads ZAI_API_BASE and the like from it.
    """
    proxy = config if isinstance(config, ProxyConfig) else read_proxy_config(Path(config), display_root=display_root)
    for key in ("model_list", "credential_list"):
        value = proxy.sections.get(key)
        if isinstance(value, Placed) and value.node is not None:
            kind = "a mapping" if isinstance(value.node, CommentedMap) else repr(value.node)
            message = f"'{key}' must be a list; LiteLLM's router cannot start from {kind}"
            raise Unreadable([parse_error(value, value.line, message, key)])
    documented = Documented.of(dataset)
    env = Environment(os.environ if environ is None else environ, proxy)
    credentials = _credentials(proxy)
    deployments = proxy.items("model_list")
    by_name: dict[str, list[Placed]] = {}
    for deployment in deployments:
        if isinstance(deployment.node, CommentedMap):
            by_name.setdefault(text(deployment.node.get("model_name")), []).append(deployment)
    check = _Deployments(documented, credentials, env, by_name)
    findings: list[Finding] = list(proxy.warnings)
    for deployment in deployments:
        findings += check.deployment(deployment)
    findings += _literal_secrets(proxy)
    findings += _dangling_aliases(proxy)
    findings += _unserved(proxy, documented)
    return findings


@dataclass(frozen=True)
class _Deployments:
    """The checks of one deployment, with what they look up: the docs, credentials, environment, siblings."""

    documented: Documented
    credentials: dict[str, Placed]
    env: Environment
    by_name: dict[str, list[Placed]]
    """Every deployment of the config, by model_name (several: a load-balanced group)."""

    def deployment(self, entry: Placed) -> list[Finding]:
        documented = self.documented
        if not isinstance(entry.node, CommentedMap):
            return [_finding("unresolvable_provider", "a model_list entry must be a mapping", entry, entry.line, {})]
        model_name = text(entry.node.get("model_name"))
        params = entry.node.get("litellm_params")
        context: dict[str, Any] = {"model_name": model_name}
        if not isinstance(params, CommentedMap) or not params.get("model"):
            line = key_line(params, "model", key_line(entry.node, "litellm_params", entry.line))
            message = f"'{model_name}' has no litellm_params.model, so LiteLLM cannot route it"
            return [_finding("unresolvable_provider", message, entry, line, {**context, "key": "litellm_params.model"})]

        line = key_line(params, "model", entry.line)
        written = text(params["model"])
        model = self.env.resolve(params["model"])
        if model is None:
            message = (
                f"'{model_name}': litellm_params.model is read from {written}, which is not set here, so LiteLLM "
                "has no model to route; write the model itself"
            )
            return [_finding("unresolvable_provider", message, entry, line, {**context, "key": "litellm_params.model"})]
        api_base = self.env.resolve(self._param(params, "api_base"))
        custom = self.env.resolve(self._param(params, "custom_llm_provider"))
        if model_name == "*" or (model == "*" and not custom):
            field = "model_name" if model_name == "*" else "litellm_params.model"
            here = key_line(entry.node, "model_name", line) if model_name == "*" else line
            message = f"catch-all route ({field}: '*'): clients can request any model of any provider through it"
            return [_finding("catch_all_route", message, entry, here, {**context, "key": field})]

        use_proxy = params.get("use_litellm_proxy") is True or _truthy(self.env.get("USE_LITELLM_PROXY"))
        route = route_model(model, custom, api_base, use_proxy=use_proxy)
        if route is None:
            message = f"'{model_name}' → {model}: {_unroutable(model, custom, api_base, documented)}"
            return [_finding("unresolvable_provider", message, entry, line, {**context, "key": "litellm_params.model"})]

        pid, problem = _serving_provider(route, api_base, documented)
        if pid is None:
            if model_name in documented.models:
                problem += f"; documented: {documented.model_string(model_name)}"
            host = host_of(api_base) if api_base else None
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
            findings += self._model(entry, line, model_name, model, route, pid, context)
        findings += self._key(entry, params, route, pid, context)
        findings += self._base(entry, params, route, pid, api_base, context)
        return findings

    def _model(
        self, entry: Placed, line: int, model_name: str, model: str, route: Route, pid: str, context: dict[str, Any]
    ) -> list[Finding]:
        documented = self.documented
        group = documented.groups.get(model_name)
        if group is not None:
            if documented.member_matching(group, pid, route.upstream):
                return []
            members = ", ".join(f"{m} ({documented.model_string(m)})" for m in group.members)
            message = (
                f"'{model_name}' is the documented model group of {members}, but this deployment sends {model}, "
                "which is none of its members; serve a member, or add the model to the group in "
                f"{GROUPS_FILE} (model_groups)"
            )
            return [_finding("undocumented_model", message, entry, line, {**context, "group": model_name})]
        if model_name not in documented.models:
            return [self._undocumented_name(entry, line, model_name, pid, context)]
        owner, known = documented.models[model_name]
        expected = documented.model_string(model_name)
        if owner != pid:
            message = (
                f"'{model_name}' is documented under {owner} (expected {expected}), but this deployment goes to {pid}"
            )
            return [_finding("undocumented_model", message, entry, line, context)]
        if route.upstream != known.upstream:
            message = f"'{model_name}' sends upstream model '{route.upstream}', expected {expected}"
            return [_finding("undocumented_model", message, entry, line, context)]
        return []

    def _undocumented_name(
        self, entry: Placed, line: int, model_name: str, pid: str, context: dict[str, Any]
    ) -> Finding:
        documented = self.documented
        names = ", ".join(m.name for m in documented.providers[pid].models)
        siblings = self.by_name.get(model_name, [])
        if len(siblings) < 2:
            message = f"'{model_name}' is not a documented {pid} model (documented: {names})"
            return _finding("undocumented_model", message, entry, line, context)
        members = [self._serves(sibling) or "<a documented model>" for sibling in siblings]
        listed = ", ".join(dict.fromkeys(members))
        message = (
            f"'{model_name}' load-balances {len(siblings)} deployments, but no documented model or model group has "
            f"this name; to document the group, add to model_groups in {GROUPS_FILE}: name: {model_name}, "
            f"members: [{listed}], and a purpose in zh and en"
        )
        return _finding("undocumented_model", message, entry, line, {**context, "group": model_name})

    def _param(self, params: CommentedMap, key: str) -> Any:
        """A setting of the deployment; one it leaves out comes from its credential (load_credentials_from_list)."""
        if params.get(key) is not None:
            return params[key]
        credential = self.credentials.get(text(params.get("litellm_credential_name")))
        values = credential.node.get("credential_values") if credential else None
        return values.get(key) if isinstance(values, CommentedMap) else None

    def _serves(self, entry: Placed) -> str | None:
        """The documented model a deployment sends its requests to, if it sends them to one."""
        params = entry.node.get("litellm_params")
        if not isinstance(params, CommentedMap):
            return None
        model, api_base = self.env.resolve(params.get("model")), self.env.resolve(self._param(params, "api_base"))
        custom = self.env.resolve(self._param(params, "custom_llm_provider"))
        route = route_model(model, custom, api_base) if model else None
        pid = _serving_provider(route, api_base, self.documented)[0] if route else None
        return self.documented.model_matching(pid, route.upstream) if pid and route else None

    def _key(
        self, entry: Placed, params: CommentedMap, route: Route, pid: str, context: dict[str, Any]
    ) -> list[Finding]:
        """Check that the deployment's key comes from the provider's documented variable, as LiteLLM resolves it."""
        name = context["model_name"]
        expected = self.documented.providers[pid].env_var
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
            credential = self.credentials.get(credential_name)
            if credential is None:
                message = f"'{name}': no credential named '{credential_name}' in credential_list"
                where = {**context, "key": "litellm_credential_name"}
                return [_finding("env_var_mismatch", message, entry, line, where)]
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

    def _base(
        self,
        entry: Placed,
        params: CommentedMap,
        route: Route,
        pid: str,
        api_base: str | None,
        context: dict[str, Any],
    ) -> list[Finding]:
        """Check that the base URL LiteLLM sends to is an API host of the platform that issues the team's keys."""
        provider = self.documented.providers[pid]
        name = context["model_name"]
        if api_base:
            written = text(self._param(params, "api_base"))
            base, why = api_base, f"its api_base, {written}" if written.startswith(ENV_REFERENCE) else "its api_base"
            if params.get("api_base") is None:
                why = f"the api_base of credential '{text(params.get('litellm_credential_name'))}'"
            line = key_line(params, "api_base", key_line(params, "litellm_credential_name", entry.line))
        else:
            known = API_BASES.get(route.litellm)
            if known is None:
                return []
            variables, default = known
            line = key_line(params, "model", entry.line)
            chosen = next((v for v in variables if self.env.get(v)), None)
            if chosen:
                base, why = self.env.get(chosen) or "", f"{chosen}, as the deployment has no api_base"
            else:
                unset = " and ".join(variables)
                base, why = default, f"LiteLLM's default for {route.litellm}/: no api_base, and {unset} is unset"
        host = host_of(base)
        if host in provider.api_hosts:
            return []
        platform = provider.key_platform
        origin = f"are issued on {platform.name('en')}" if platform else "are issued on another platform"
        target = platform.api_base if platform else f"an https:// URL on {', '.join(provider.api_hosts)}"
        variable = provider.litellm_api_base.env if provider.litellm_api_base else None
        fix = f"write api_base: {target} on the deployment"
        if variable and not api_base:
            fix += f", or set {variable}={target} in the proxy's environment"
        message = (
            f"'{name}' → {route.litellm}/{route.upstream} is sent to {base} ({why}), but the team's {pid} keys "
            f"{origin}, whose API is on {', '.join(provider.api_hosts)} only; {fix}"
        )
        where_ctx = {**context, "key": "api_base", "host": host}
        return [_finding("key_platform_mismatch", message, entry, line, where_ctx)]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "1", "yes"}


def _unroutable(model: str, custom: str | None, api_base: str | None, documented: Documented) -> str:
    if custom and model.split("/", 1)[0] != custom:
        model = f"{custom}/{model}"
    prefix, slash, rest = model.partition("/")
    upstream = rest if slash else model
    known = [documented.model_string(name) for name, (_, m) in documented.models.items() if m.upstream == upstream]
    suggestion = f" (documented: {known[0]})" if known else ""
    if api_base:
        for endpoint, provider in tables.COMPATIBLE_ENDPOINTS:
            if provider is None and _endpoint_matches(endpoint, api_base):
                return (
                    f"LiteLLM matches api_base to its endpoint {endpoint} but names no provider for it, so it cannot "
                    f"route '{model}'{suggestion}"
                )
    if not slash:
        if prefix in tables.PROVIDERS:
            return f"'{model}' is a LiteLLM provider's name, not a model; write {model}/<model id>"
        return (
            f"LiteLLM cannot route the bare model name '{model}': only names in its own model lists "
            f"(gpt-…, gemini-…, its price map) work without a provider prefix{suggestion}"
        )
    if prefix in PREFIX_HINTS:
        right, what = PREFIX_HINTS[prefix]
        return f"LiteLLM has no '{prefix}/' prefix; {what} use '{right}/' (write '{right}/{rest}')"
    return f"LiteLLM {tables.VERSION} has no '{prefix}/' prefix, so it cannot route '{model}'{suggestion}"


def _serving_provider(route: Route, api_base: str | None, documented: Documented) -> tuple[str | None, str]:
    """The documented provider that really serves the route, or why none does."""
    if route.litellm in OPENAI_FORMAT and api_base:
        host = host_of(api_base)
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
    return pid, ""


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


# --- Secrets, aliases and coverage -----------------------------------------------------------------------------


def _literal_secrets(proxy: ProxyConfig) -> list[Finding]:
    """Every literal secret under a secret-named setting, in every file read (a literal is a leak wherever it is)."""
    findings: list[Finding] = []
    seen: set[tuple[str, int, str]] = set()
    for tree in proxy.trees:
        for path, key, value, line in secret_settings(tree.node):
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


def secret_settings(root: Any) -> Iterator[tuple[str, str, Any, int]]:
    """(YAML path, key, value, line) of each value under a secret-named key that looks like a secret.

    Walks the tree without recursion and visits a node shared through YAML aliases once, so neither deep
    nesting nor an alias bomb can make it run long.
    """
    stack: list[tuple[Any, str]] = [(root, "")]
    visited: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, CommentedMap):
            children = []
            for key in node:
                value, here = node[key], f"{path}.{key}" if path else str(key)
                if isinstance(value, CommentedMap | CommentedSeq):
                    children.append((value, here))
                elif _is_secret_name(str(key)) and looks_like_secret(value):
                    yield here, str(key), value, key_line(node, key)
            stack += reversed(children)
        elif isinstance(node, CommentedSeq):
            stack += reversed([(item, f"{path}[{i}]") for i, item in enumerate(node)])


def _is_secret_name(name: str) -> bool:
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    return words[-1] in SECRET_WORDS


def looks_like_secret(value: Any) -> bool:
    """Whether a value written under a secret-named setting is a secret: text that is no number and no placeholder.

    Numbers, booleans and dates never are (`input_cost_per_token: 0.00000125`), nor a reference to the
    environment, text with spaces, a number written as text, a value shorter than MIN_SECRET_LENGTH, one
    character repeated (`********`) or a value made only of placeholder words (`fake-key`, `not-needed`).
    """
    if not isinstance(value, str):
        return False
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH or value.startswith(ENV_REFERENCE) or re.search(r"\s", value):
        return False
    try:
        float(value.replace("_", ""))
        return False
    except ValueError:
        pass
    if len(set(value)) == 1:
        return False
    words = [w for w in re.split(r"[^a-z0-9]+", value.lower()) if w]
    return not words or not all(w in PLACEHOLDER_WORDS or set(w) == {"x"} for w in words)


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


def _unserved(proxy: ProxyConfig, documented: Documented) -> list[Finding]:
    served = {text(d.node.get("model_name")) for d in proxy.items("model_list") if isinstance(d.node, CommentedMap)}
    line = key_line(proxy.main.node, "model_list", 1)
    # Each documented model and model group, as the message names it, with what the finding's context adds.
    documented_names = [
        (name, f"model '{name}' ({documented.model_string(name)})", {"provider": pid})
        for name, (pid, _) in documented.models.items()
    ] + [
        (name, f"model group '{name}' ({', '.join(group.members)})", {"group": name})
        for name, group in documented.groups.items()
    ]
    return [
        Finding(
            "unserved_model",
            f"documented {what} is not served by any model_list entry",
            proxy.main.file,
            line,
            severity="warning",
            context={"model_name": name, **extra},
        )
        for name, what, extra in documented_names
        if name not in served
    ]


def _finding(
    reason: str, message: str, entry: Placed, line: int, context: dict[str, Any], *, severity: Severity = "error"
) -> Finding:
    return Finding(reason, message, entry.file, line, severity, {**context, "entry": entry.path})
