"""Warn about cost risks in a LiteLLM proxy config: unlimited expensive models, no budget, open access, retries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from runbooks.findings import Finding, Severity
from runbooks.loader import Dataset
from runbooks.proxy_config import Placed, ProxyConfig, key_line, read_proxy_config, text
from runbooks.schema import observation_key

ENFORCING_STRATEGIES = frozenset({"usage-based-routing", "usage-based-routing-v2"})
"""Routing strategies under which the router refuses a deployment over its rpm and tpm (litellm/router_strategy/
lowest_tpm_rpm*.py); under the default simple-shuffle they are only load-balancing weights."""

DEFAULT_RETRIES = 2
"""How often LiteLLM's router retries a failed request when no num_retries is set (openai.DEFAULT_MAX_RETRIES)."""

MAX_RETRIES = 3
"""More retries than this multiply the cost of a failing expensive request for little gain."""

RETRY_FIELDS = {
    "RateLimitError": "RateLimitErrorRetries",
    "BadRequestError": "BadRequestErrorRetries",
    "PaymentRequiredError": "BadRequestErrorRetries",
    "AuthenticationError": "AuthenticationErrorRetries",
}
"""The RetryPolicy field (litellm/types/router.py) that decides the retries of each exception class LiteLLM raises;
PaymentRequiredError is a BadRequestError (litellm/exceptions.py), which the policy looks up by class."""

EXCEPTION_OF_STATUS = {429: "RateLimitError", 401: "AuthenticationError", 402: "PaymentRequiredError"}
"""The class LiteLLM raises for a provider's status when no observation names it (other 4xx: BadRequestError)."""

RETRIED_WITHOUT_POLICY = frozenset({"RateLimitError"})
"""Classes the router retries num_retries times without a retry_policy; for the others it checks
litellm.should_retry(status), which refuses 400, 401 and 402 (litellm/router.py, should_retry_this_error)."""

SDK_RETRYING_PREFIXES = frozenset({"zai"})
"""Prefixes whose deployments LiteLLM calls through an OpenAI SDK client that keeps the SDK's own 2 retries of a
429 unless `allowed_openai_params` lets the router's max_retries through (`make observe` counted 3 requests)."""

_RAISED = re.compile(r"litellm\.(\w+Error)\b")

ALL_MODELS = frozenset({"*", "all-proxy-models"})
"""Entries of a key's `models` that LiteLLM reads as every model (SpecialModelNames in litellm/proxy/_types.py)."""


def lint_cost(
    config: Path | ProxyConfig, dataset: Dataset, *, strict: bool = False, display_root: Path | None = None
) -> list[Finding]:
    """Every cost risk in a LiteLLM proxy config (its path, or as read): warnings, or errors when `strict`."""
    proxy = config if isinstance(config, ProxyConfig) else read_proxy_config(config, display_root=display_root)
    severity: Severity = "error" if strict else "warning"
    lint = _Lint(proxy, dataset, severity)
    return [
        *lint.unbounded_expensive_models(),
        *lint.limits_not_enforced(),
        *lint.no_budget(),
        *lint.expensive_models_open_to_all_keys(),
        *lint.unbounded_retries(),
        *lint.billing_errors_retried(dataset),
    ]


class _Lint:
    def __init__(self, proxy: ProxyConfig, dataset: Dataset, severity: Severity) -> None:
        self.proxy = proxy
        self.severity = severity
        self.tiers = {t.id: t for t in dataset.team.cost_control.tiers}
        by_name: dict[str, str] = {}
        by_route: dict[str, str] = {}
        for provider in dataset.providers.providers.values():
            for model in provider.models:
                by_name[model.name] = model.tier
                by_route[provider.route(model)] = model.tier
        self.expensive: list[tuple[Placed, str, str]] = []
        """(deployment, model_name, tier) of every deployment of an expensive tier."""
        for entry in proxy.items("model_list"):
            if not isinstance(entry.node, CommentedMap):
                continue
            name = text(entry.node.get("model_name"))
            tier = by_name.get(name) or by_route.get(text(_params(entry).get("model")))
            if tier in self.tiers and self.tiers[tier].expensive:
                self.expensive.append((entry, name, tier))

    def finding(self, reason: str, message: str, where: Placed, line: int, **context: Any) -> Finding:
        return Finding(reason, message, where.file, line, self.severity, context)

    def setting(self, section: str, key: str) -> tuple[Any, Placed | None, int]:
        """A value of a top-level settings mapping, where it is written, and its line."""
        placed = self.proxy.mapping(section)
        if placed is None or key not in placed.node:
            return None, placed, placed.line if placed else 1
        return placed.node[key], placed, key_line(placed.node, key, placed.line)

    # --- The checks ------------------------------------------------------------------------------------

    def unbounded_expensive_models(self) -> list[Finding]:
        findings = []
        for entry, name, tier in self.expensive:
            missing = [limit for limit in ("rpm", "tpm") if _limit(entry, limit) is None]
            if not missing:
                continue
            suggested = self.tiers[tier].limits
            hint = f" (data/team.yaml: rpm {suggested.rpm}, tpm {suggested.tpm})" if suggested else ""
            message = (
                f"'{name}' is in the expensive tier '{tier}' but has no {' and no '.join(missing)}: one runaway "
                f"client or script can spend on it without limit; set litellm_params.rpm and tpm{hint}"
            )
            line = key_line(entry.node, "model_name", entry.line)
            findings.append(self.finding("unbounded_expensive_model", message, entry, line, model_name=name, tier=tier))
        return findings

    def limits_not_enforced(self) -> list[Finding]:
        limited = [(e, n) for e, n, _ in self.expensive if _limit(e, "rpm") is not None or _limit(e, "tpm") is not None]
        if not limited:
            return []
        strategy, placed, line = self.setting("router_settings", "routing_strategy")
        if text(strategy) in ENFORCING_STRATEGIES:
            return []
        pre_call, _, _ = self.setting("router_settings", "enable_pre_call_checks")
        with_tpm = [n for e, n in limited if _limit(e, "tpm") is not None]
        if pre_call is True and not with_tpm:
            return []
        current = f"routing_strategy '{strategy}'" if strategy else "the default routing strategy (simple-shuffle)"
        enforced = "only rpm is enforced (enable_pre_call_checks) and tpm" if pre_call is True else "rpm and tpm"
        message = (
            f"expensive deployments set rpm/tpm, but under {current} {enforced} are only load-balancing weights; "
            "set router_settings.routing_strategy: usage-based-routing-v2 so that the router refuses requests over them"
        )
        where = placed or limited[0][0]
        at = line if placed else limited[0][0].line
        return [self.finding("rate_limits_not_enforced", message, where, at, key="router_settings.routing_strategy")]

    def no_budget(self) -> list[Finding]:
        budget, _, _ = self.setting("litellm_settings", "max_budget")
        if _positive(budget):
            return []
        for key in ("default_key_generate_params", "upperbound_key_generate_params"):
            params, _, _ = self.setting("litellm_settings", key)
            if isinstance(params, CommentedMap) and _positive(params.get("max_budget")):
                return []
        providers, _, _ = self.setting("router_settings", "provider_budget_config")
        if isinstance(providers, CommentedMap) and len(providers) > 0:
            return []
        for entry in self.proxy.items("model_list"):
            if isinstance(entry.node, CommentedMap) and _positive(_params(entry).get("max_budget")):
                return []
        message = (
            "no budget anywhere in this config: no litellm_settings.max_budget, no budget for new keys, providers "
            "or deployments; budgets of keys and teams live in the proxy's database, which this check cannot see, "
            "so set litellm_settings.max_budget and budget_duration as the ceiling for the whole proxy"
        )
        main = self.proxy.main
        return [self.finding("no_budget", message, main, 1, key="litellm_settings.max_budget")]

    def expensive_models_open_to_all_keys(self) -> list[Finding]:
        if not self.expensive:
            return []
        params, placed, line = self.setting("litellm_settings", "default_key_generate_params")
        models = params.get("models") if isinstance(params, CommentedMap) else None
        defaults = [text(m) for m in models] if isinstance(models, CommentedSeq) else []
        if isinstance(params, CommentedMap) and "models" in params:
            line = key_line(params, "models", line)
        findings = []
        for entry, name, tier in self.expensive:
            groups = _access_groups(entry)
            if not defaults:
                message = (
                    f"'{name}' (expensive tier '{tier}') can be called by every key created without a models list, "
                    "because LiteLLM reads an empty list as all models; set "
                    "litellm_settings.default_key_generate_params.models to the low-cost tiers"
                    + ("" if groups else f" and put this deployment in the access group '{tier}' (model_info)")
                )
                at = key_line(entry.node, "model_name", entry.line)
                findings.append(
                    self.finding("expensive_model_open_to_all_keys", message, entry, at, model_name=name, tier=tier)
                )
                continue
            opened = [m for m in defaults if m in ALL_MODELS or m == name or m in groups]
            if opened:
                message = (
                    f"litellm_settings.default_key_generate_params.models gives every new key '{opened[0]}', which "
                    f"reaches '{name}' of the expensive tier '{tier}'; list only low-cost tiers there"
                )
                where = placed or entry
                findings.append(
                    self.finding("expensive_model_open_to_all_keys", message, where, line, model_name=name, tier=tier)
                )
        return findings

    def unbounded_retries(self) -> list[Finding]:
        findings = []
        found = False
        for section in ("router_settings", "litellm_settings"):
            value, placed, line = self.setting(section, "num_retries")
            if placed is None or value is None:
                continue
            found = True
            key = f"{section}.num_retries"
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                message = f"{key} is {value!r}, not a whole number of retries; LiteLLM needs a count such as 2"
                findings.append(self.finding("unbounded_retries", message, placed, line, key=key))
            elif value > MAX_RETRIES:
                message = (
                    f"{key} is {value}: a failing request can be sent {value + 1} times, each billed by the provider "
                    f"once it reaches the model; keep it at {MAX_RETRIES} or fewer"
                )
                findings.append(self.finding("unbounded_retries", message, placed, line, key=key))
        for entry, name, _tier in self.expensive:
            value = _params(entry).get("num_retries")
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_RETRIES:
                line = key_line(_params(entry), "num_retries", entry.line)
                message = f"'{name}' retries {value} times (litellm_params.num_retries); keep it to {MAX_RETRIES}"
                findings.append(self.finding("unbounded_retries", message, entry, line, model_name=name))
        if not found:
            message = (
                f"no num_retries: the router falls back to its default ({DEFAULT_RETRIES} retries) and nothing in "
                "this config states the bound; set router_settings.num_retries (for example 2)"
            )
            key = "router_settings.num_retries"
            findings.append(self.finding("unbounded_retries", message, self.proxy.main, 1, key=key))
        return findings

    def billing_errors_retried(self, dataset: Dataset) -> list[Finding]:
        """Billing errors the router (or the OpenAI SDK inside LiteLLM) would send to the provider again."""
        billing = _billing_errors(dataset)
        if not billing:
            return []
        policy, placed, line = self.setting("router_settings", "retry_policy")
        policy = policy if isinstance(policy, CommentedMap) else CommentedMap()
        router_retries = self._num_retries()
        findings = []
        for exception, examples in sorted(billing.items()):
            field = RETRY_FIELDS.get(exception, "BadRequestErrorRetries")
            value = policy.get(field, policy.get("DefaultRetries"))
            if isinstance(value, int) and not isinstance(value, bool):
                retries = value
            else:
                retries = router_retries if exception in RETRIED_WITHOUT_POLICY else 0
            if retries <= 0:
                continue
            key = f"router_settings.retry_policy.{field}"
            where_line = key_line(policy, field, line) if field in policy else line
            message = (
                f"billing errors arrive as {exception} ({', '.join(examples[:3])}) and are retried {retries} time(s), "
                f"so each is sent {retries + 1} times though no retry can succeed; set {key}: 0"
            )
            where = placed or self.proxy.main
            findings.append(self.finding("billing_errors_retried", message, where, where_line, key=key))
        sdk_billing = [e for e in billing.get("RateLimitError", []) if e.split(" ", 1)[0] in SDK_RETRYING_PREFIXES]
        for entry in self.proxy.items("model_list"):
            if not isinstance(entry.node, CommentedMap):
                continue
            model = text(_params(entry).get("model"))
            prefix = model.split("/", 1)[0]
            allowed = _params(entry).get("allowed_openai_params")
            passes = isinstance(allowed, CommentedSeq) and "max_retries" in [text(a) for a in allowed]
            examples = [e for e in sdk_billing if e.startswith(prefix + " ")]
            if prefix not in SDK_RETRYING_PREFIXES or passes or not examples:
                continue
            name = text(entry.node.get("model_name"))
            message = (
                f"'{name}' ({model}): the OpenAI SDK inside LiteLLM retries a 429 twice more whatever the router "
                f"does, so a billing error such as {examples[0].split(' ', 1)[1]} reaches the provider 3 times; "
                "add allowed_openai_params: [max_retries] to its litellm_params"
            )
            at = key_line(entry.node, "model_name", entry.line)
            findings.append(self.finding("billing_errors_retried", message, entry, at, model_name=name))
        return findings

    def _num_retries(self) -> int:
        for section in ("router_settings", "litellm_settings"):
            value, _, _ = self.setting(section, "num_retries")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return DEFAULT_RETRIES


def _billing_errors(dataset: Dataset) -> dict[str, list[str]]:
    """The documented billing errors by the exception class LiteLLM raises for them: `prefix code` examples."""
    observed = dataset.observations.errors if dataset.observations else {}
    out: dict[str, list[str]] = {}
    for pid, provider in dataset.providers.providers.items():
        for err in provider.errors:
            if not err.billing:
                continue
            obs = observed.get(observation_key(pid, err.code))
            raised = _RAISED.findall(obs.member.message) if obs and obs.member else []
            status = err.status or 0
            exception = raised[0] if raised else EXCEPTION_OF_STATUS.get(status, "BadRequestError")
            out.setdefault(exception, []).append(f"{provider.litellm_prefix} {err.code}")
    return out


def _params(entry: Placed) -> CommentedMap:
    params = entry.node.get("litellm_params") if isinstance(entry.node, CommentedMap) else None
    return params if isinstance(params, CommentedMap) else CommentedMap()


def _limit(entry: Placed, name: str) -> Any:
    """A deployment's rpm or tpm where LiteLLM's router looks for it: the entry, litellm_params, then model_info."""
    info = entry.node.get("model_info")
    for where in (entry.node, _params(entry), info if isinstance(info, CommentedMap) else CommentedMap()):
        value = where.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _access_groups(entry: Placed) -> list[str]:
    info = entry.node.get("model_info")
    groups = info.get("access_groups") if isinstance(info, CommentedMap) else None
    return [text(g) for g in groups] if isinstance(groups, CommentedSeq) else []


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
