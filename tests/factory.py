"""The tests' own data: a small valid data set, one of many providers, and the files they are written as."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _faq(fid: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": fid,
        "question": _text(zh + "？", en + "?"),
        "answer": _text(f"{zh}的答案。", f"The answer to {en}."),
        "basis": _text(f"{zh}的依据。", f"Why: {en}."),
        "boundary": _text(f"{zh}的适用边界。", f"When it does not apply: {en}."),
        **extra,
    }


def _provider(
    pid: str, domain: str, models: list[tuple[str, str, str]], *, prefix: str | None = None
) -> dict[str, Any]:
    prefix = prefix or pid
    return {
        "name": _text(f"{pid} 公司", pid.title()),
        "summary": _text(f"团队用 {pid} 跑测试。", f"The team runs tests on {pid}."),
        "litellm_prefix": prefix,
        "env_var": f"{prefix.upper()}_API_KEY",
        "domains": [domain],
        "api_hosts": [f"api.{domain}"],
        "urls": {
            "console": f"https://console.{domain}",
            "billing": f"https://console.{domain}/billing",
            "api_keys": f"https://console.{domain}/keys",
            "usage": f"https://console.{domain}/usage",
        },
        "models": [{"name": n, "upstream": u, "tier": t} for n, u, t in models],
        "recharge_steps": [
            {"text": _text(f"登录 {pid} 控制台。", f"Sign in to the {pid} console."), "link": "console"},
            {"text": _text("添加付款方式并充值。", "Add a payment method and top up."), "link": "billing"},
        ],
        "payment_notes": [_text("只支持信用卡。", "Only credit cards are accepted.")],
        "faqs": [_faq(f"{pid}-new-key", f"{pid} 怎么换密钥", f"How do I rotate a {pid} key")],
        "errors": [
            {
                "code": 402,
                "status": 402,
                "cause": _text("余额用完。", "The balance ran out."),
                "check": _text("查看余额。", "Look at the balance."),
                "fix": _text("充值。", "Top up."),
            }
        ],
        "verified_on": dt.date(2026, 1, 15),
    }


def valid_data() -> dict[str, dict[str, Any]]:
    """A small data set that passes every rule: two fake providers and a team."""
    providers = {
        "providers": {
            "acme": _provider(
                "acme", "acme.example", [("acme-small", "small-1", "economy"), ("acme-large", "large-2", "premium")]
            ),
            "globex": _provider("globex", "globex.example", [("globex-chat", "chat", "economy")]),
        }
    }
    team = {
        "team": _text("测试组", "Test team"),
        "account": {
            "email": "ops@team.example",
            "scope": _text("所有控制台", "Every console"),
            "two_factor": _text("验证码发到邮箱。", "Codes go to the mailbox."),
        },
        "server": {
            "keys_file": "/srv/proxy/api_keys.env",
            "config_file": "/srv/proxy/config.yaml",
            "reload_script": "/srv/proxy/reload.sh",
            "proxy_url": "http://127.0.0.1:4001",
            "master_key_env": "LITELLM_MASTER_KEY",
            "smoke_test_model": "acme-small",
            "chat_ui": "Open WebUI",
        },
        "never_share": [_text("完整的 API 密钥", "a full API key")],
        "after_recharge": [
            {
                "id": "edit-keys",
                "title": _text("更新密钥", "Update the keys"),
                "body": _text("编辑密钥文件。", "Edit the keys file."),
                "command": "edit_keys",
            },
            {
                "id": "smoke-test",
                "title": _text("冒烟测试", "Smoke test"),
                "body": _text("发一个请求。", "Send one request."),
                "command": "smoke_test",
            },
        ],
        "roles": [
            {
                "id": "lead",
                "name": _text("负责人", "Lead"),
                "holds": _text("统一账号", "The shared account"),
                "may": [_text("付款", "Pay")],
            }
        ],
        "faqs": [
            _faq(
                "insufficient-quota",
                "额度不足是什么意思",
                "What does insufficient quota mean",
                related=["acme-new-key"],
            )
        ],
        "cost_control": {
            "intro": _text("控制成本。", "Keep costs down."),
            "tiers": [
                {"id": "economy", "name": _text("经济", "Economy"), "use_for": _text("日常对话", "Everyday chat")},
                {
                    "id": "premium",
                    "name": _text("旗舰", "Premium"),
                    "use_for": _text("难题", "Hard problems"),
                    "expensive": True,
                    "limits": {"rpm": 10, "tpm": 50000},
                },
            ],
            "controls": [
                {
                    "id": "groups",
                    "name": _text("分组", "Groups"),
                    "purpose": _text("归属消耗", "Attribute spend"),
                    "example": _text("生产、测试", "production, staging"),
                    "risk": _text("无法复盘", "No way to review"),
                    "litellm": {
                        "feature": _text("团队与虚拟密钥", "Teams and virtual keys"),
                        "how": _text("每个环境一把密钥。", "One key per environment."),
                        "examples": ["key", "proxy_budget"],
                    },
                }
            ],
            "proxy": _proxy_plan(owner="lead"),
            "rollout": [_text("先拆分密钥。", "Split the keys first.")],
            "evidence": [_text("密钥归属", "Key owner")],
            "mistakes": [_text("共用一把密钥。", "Sharing one key.")],
        },
        "verified_on": dt.date(2026, 1, 15),
    }
    return {"providers": providers, "team": team, "prices": prices_of(providers)}


def prices_of(providers: dict[str, Any]) -> dict[str, Any]:
    """A price snapshot (data/prices.yaml) for the models of `providers`; the last model is not in the price map."""
    entries = [
        (model["name"], f"{provider['litellm_prefix']}/{model['upstream']}")
        for provider in providers["providers"].values()
        for model in provider["models"]
    ]
    models: dict[str, Any] = {}
    for n, (name, route) in enumerate(entries):
        if n == len(entries) - 1:
            models[name] = {"litellm_model": route, "price_map_key": None}
            continue
        models[name] = {
            "litellm_model": route,
            "price_map_key": route,
            "mode": "chat",
            "input_usd_per_mtok": 0.15 * (n + 1),
            "output_usd_per_mtok": 0.6 * (n + 1),
            "max_input_tokens": 128000 * (n + 1),
            "max_output_tokens": 16384,
        }
    source = {
        "package": "litellm",
        "version": "1.106.2",
        "file": "litellm/model_prices_and_context_window_backup.json",
        "synced_on": dt.date(2026, 1, 15),
    }
    return {"source": source, "models": models}


def dump_yaml(data: Any) -> str:
    """Block-style YAML, as a person would write it (libyaml's writer: the tests write hundreds of data sets)."""
    return yaml.dump(
        data, Dumper=yaml.CSafeDumper, default_flow_style=False, allow_unicode=True, sort_keys=False, width=4096
    )


def write_data(root: Path, data: dict[str, Any]) -> Path:
    """Write a data set as data/providers.yaml and data/team.yaml under `root`; return the data dir."""
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for key, value in data.items():
        (data_dir / f"{key}.yaml").write_text(dump_yaml(value), encoding="utf-8")
    (data_dir / "litellm").mkdir(exist_ok=True)
    (data_dir / "litellm" / "config.yaml").write_text(dump_yaml(proxy_config(data)), encoding="utf-8")
    return data_dir


def proxy_config(data: dict[str, Any]) -> dict[str, Any]:
    """A LiteLLM config that serves exactly the models of a data set, keys from the environment."""
    deployments = [
        {
            "model_name": model["name"],
            "litellm_params": {
                "model": f"{provider['litellm_prefix']}/{model['upstream']}",
                "api_key": f"os.environ/{provider['env_var']}",
            },
        }
        for provider in data["providers"].get("providers", {}).values()
        for model in provider.get("models", [])
        if "name" in model and "upstream" in model
    ]
    return {"model_list": deployments, "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"}}


def routable_proxy_config(data: dict[str, Any]) -> dict[str, Any]:
    """proxy_config(data) as LiteLLM can route it: each model through the OpenAI-compatible API of its provider's host.

    LiteLLM has no prefix for the made-up providers, so check-config finds proxy_config's routes unresolvable.
    """
    config = proxy_config(data)
    hosts = {
        f"{provider['litellm_prefix']}/{model['upstream']}": provider["api_hosts"][0]
        for provider in data["providers"]["providers"].values()
        for model in provider["models"]
    }
    for deployment in config["model_list"]:
        params = deployment["litellm_params"]
        upstream = params["model"].split("/", 1)[1]
        params.update(model=f"openai/{upstream}", api_base=f"https://{hosts[params['model']]}/v1")
    return config


def _proxy_plan(owner: str) -> dict[str, Any]:
    """A valid LiteLLM proxy plan (team.yaml cost_control.proxy): a team for the tests and its key, owned by `owner`."""
    monthly = {"budget_duration": "30d"}
    team = {"id": "tests", "purpose": _text("测试用", "For tests"), "max_budget": 25, **monthly}
    key = {"alias": "tests-ci", "team": team["id"], "owner": owner, "environment": "ci", **monthly}
    return {
        "budget": {"max_budget": 100, **monthly},
        "num_retries": 2,
        "default_key_tiers": ["economy"],
        "teams": [{**team, "tiers": ["economy", "premium"]}],
        "keys": [{**key, "max_budget": 10, "soft_budget": 5, "rpm_limit": 30, "tpm_limit": 60000}],
        "alerting": dict(channel="slack", webhook_env="ALERTS_WEBHOOK", types=["budget_alerts"], threshold_seconds=120),
        "spend_logs": dict(retention="14d", database_env="PROXY_DATABASE_URL"),
    }


def provider_id(number: int) -> str:
    """The id of the `number`-th provider of many_providers(): provider-0001, provider-0002, …"""
    return f"provider-{number:04d}"


FAQS_PER_PROVIDER = 2
"""How many questions each provider of many_providers() answers: {id}-faq-1, {id}-faq-2, …"""


def _numbered_provider(number: int) -> dict[str, Any]:
    pid, tag = provider_id(number), f"p{number:04d}"
    models = [(f"{tag}-small", "small-1", "economy"), (f"{tag}-large", "large-2", "premium")]
    provider = _provider(pid, f"{pid}.example", models, prefix=tag)
    provider["faqs"] = [
        _faq(
            f"{pid}-faq-{n}",
            f"服务商 {number} 的第 {n} 个问题怎么处理",
            f"How do we handle question {n} about provider {number}",
            related=[f"{pid}-faq-{n % FAQS_PER_PROVIDER + 1}"],
        )
        for n in range(1, FAQS_PER_PROVIDER + 1)
    ]
    return provider


def many_providers(count: int) -> dict[str, dict[str, Any]]:
    """The valid data set with `count` providers provider-0001, provider-0002, … in place of its two.

    Each has two models (economy and premium), the FAQs provider-0001-faq-1, provider-0001-faq-2, … and the
    error code every provider shares; the team is valid_data()'s, its smoke test on the first provider's model.
    """
    if count < 1:
        raise ValueError("a data set needs at least one provider")
    providers = {"providers": {provider_id(n): _numbered_provider(n) for n in range(1, count + 1)}}
    team = valid_data()["team"]
    first = providers["providers"][provider_id(1)]
    team["server"]["smoke_test_model"] = first["models"][0]["name"]
    team["faqs"][0]["related"] = [first["faqs"][0]["id"]]
    return {"providers": providers, "team": team, "prices": prices_of(providers)}
