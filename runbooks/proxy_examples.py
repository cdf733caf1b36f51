"""The LiteLLM proxy examples of the cost-control page, rendered from the data: config snippets and API calls."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any, Literal

from ruamel.yaml import YAML

from runbooks.schema import ExampleKind, Model, Provider, TeamFile

ROUTING_STRATEGY = "usage-based-routing-v2"
DEFAULT_PROXY_URL = "http://localhost:4000"
"""Where a LiteLLM proxy listens by default; shown on the public site, which withholds the team's own address."""
"""The router strategy that enforces each deployment's rpm and tpm (litellm/router_strategy/lowest_tpm_rpm_v2.py)."""

CONFIG_KINDS: frozenset[str] = frozenset({"proxy_budget", "access_groups", "deployment_limits", "spend_logs", "alerts"})
"""Examples that are parts of the proxy's config.yaml; the others are calls to its management API."""


@dataclass(frozen=True)
class Snippet:
    """One example block: what it shows, its language (`yaml` config or `bash` API call), and its text."""

    kind: ExampleKind
    language: Literal["yaml", "bash"]
    text: str


def snippets(kind: ExampleKind, providers: dict[str, Provider], team: TeamFile) -> list[Snippet]:
    """The example blocks of one kind, built from the team's cost-control plan and the documented models."""
    if kind in CONFIG_KINDS:
        return [Snippet(kind, "yaml", config_yaml(_CONFIGS[kind](providers, team)))]
    plan = team.cost_control.proxy
    if kind == "team":
        bodies = [
            (
                "/team/new",
                {
                    "team_id": t.id,
                    "team_alias": t.id,
                    "max_budget": _number(t.max_budget),
                    "budget_duration": t.budget_duration,
                    "models": t.tiers,
                },
            )
            for t in plan.teams
        ]
    else:
        teams = {t.id: t for t in plan.teams}
        bodies = [
            (
                "/key/generate",
                {
                    "key_alias": k.alias,
                    "team_id": k.team,
                    "models": teams[k.team].tiers,
                    "max_budget": _number(k.max_budget),
                    **({"soft_budget": _number(k.soft_budget)} if k.soft_budget is not None else {}),
                    "budget_duration": k.budget_duration,
                    "rpm_limit": k.rpm_limit,
                    "tpm_limit": k.tpm_limit,
                    "metadata": {"owner": k.owner, "environment": k.environment},
                },
            )
            for k in plan.keys
        ]
    return [Snippet(kind, "bash", "\n\n".join(api_call(team, route, body) for route, body in bodies))]


def api_call(team: TeamFile, route: str, body: dict[str, Any], *, indent: int | None = 2) -> str:
    """A curl call to the proxy at `route`, with the master key from the environment and `body` as JSON."""
    server = team.server
    payload = json.dumps(body, ensure_ascii=False, indent=indent)
    return (
        f"curl -sS {server.proxy_url or DEFAULT_PROXY_URL}{route} \\\n"
        f'  -H "Authorization: Bearer ${server.master_key_env}" \\\n'
        f'  -H "Content-Type: application/json" \\\n'
        f"  -d '{payload}'"
    )


def config_yaml(config: dict[str, Any]) -> str:
    """A config fragment as block-style YAML, the way config.yaml is written."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(config, out)
    return out.getvalue().rstrip("\n")


def deployment(provider: Provider, model: Model) -> dict[str, Any]:
    """A model_list entry that serves a documented model with its documented key variable (and API base)."""
    params = {"model": provider.route(model), "api_key": f"os.environ/{provider.env_var}"}
    if provider.needs_api_base and provider.key_platform is not None:
        params["api_base"] = provider.key_platform.api_base
    return {"model_name": model.name, "litellm_params": params}


# --- One builder per config example ---------------------------------------------------------------------


def _proxy_budget(providers: dict[str, Provider], team: TeamFile) -> dict[str, Any]:
    plan = team.cost_control.proxy
    return {
        "litellm_settings": {
            "max_budget": _number(plan.budget.max_budget),
            "budget_duration": plan.budget.budget_duration,
        },
        "general_settings": {
            "master_key": f"os.environ/{team.server.master_key_env}",
            "database_url": f"os.environ/{plan.spend_logs.database_env}",
        },
    }


def _access_groups(providers: dict[str, Provider], team: TeamFile) -> dict[str, Any]:
    model_list = []
    for provider in providers.values():
        for model in provider.models:
            entry = deployment(provider, model)
            entry["model_info"] = {"access_groups": [model.tier]}
            model_list.append(entry)
    return {
        "model_list": model_list,
        "litellm_settings": {"default_key_generate_params": {"models": team.cost_control.proxy.default_key_tiers}},
    }


def _deployment_limits(providers: dict[str, Provider], team: TeamFile) -> dict[str, Any]:
    tiers = {t.id: t for t in team.cost_control.tiers}
    model_list = []
    for provider in providers.values():
        for model in provider.models:
            limits = tiers[model.tier].limits
            if tiers[model.tier].expensive and limits is not None:
                entry = deployment(provider, model)
                entry["litellm_params"].update(rpm=limits.rpm, tpm=limits.tpm)
                model_list.append(entry)
    return {
        "model_list": model_list,
        "router_settings": {"routing_strategy": ROUTING_STRATEGY, "num_retries": team.cost_control.proxy.num_retries},
    }


def _spend_logs(providers: dict[str, Provider], team: TeamFile) -> dict[str, Any]:
    logs = team.cost_control.proxy.spend_logs
    return {
        "general_settings": {
            "database_url": f"os.environ/{logs.database_env}",
            "store_prompts_in_spend_logs": False,
            "maximum_spend_logs_retention_period": logs.retention,
        },
        "litellm_settings": {"turn_off_message_logging": True},
    }


def _alerts(providers: dict[str, Provider], team: TeamFile) -> dict[str, Any]:
    alerting = team.cost_control.proxy.alerting
    return {
        "general_settings": {
            "alerting": [alerting.channel],
            "alert_types": list(alerting.types),
            "alerting_threshold": alerting.threshold_seconds,
        }
    }


_CONFIGS = {
    "proxy_budget": _proxy_budget,
    "access_groups": _access_groups,
    "deployment_limits": _deployment_limits,
    "spend_logs": _spend_logs,
    "alerts": _alerts,
}


def _number(value: float | None) -> float | int | None:
    """Whole amounts as integers, so that 120.0 is written 120."""
    return int(value) if value is not None and float(value).is_integer() else value
