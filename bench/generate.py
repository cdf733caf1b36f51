"""Write a synthetic, schema-valid data set of N providers (both languages) for the build benchmark."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import yaml

MODELS_PER_PROVIDER = 10
RECHARGE_STEPS = 5
FAQS_PER_PROVIDER = 5
TIERS = ("economy", "standard", "premium")
# Error codes several providers share, so the error catalog groups them the way real data does.
SHARED_ERRORS = (
    ("invalid_api_key", 401, "密钥无效或已被撤销。", "The key is invalid or has been revoked."),
    ("insufficient_balance", 402, "账户余额已经用完。", "The account balance has run out."),
    ("rate_limit_exceeded", 429, "请求太快，超出了每分钟的限额。", "Requests came too fast for the per-minute limit."),
)


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def provider_id(number: int) -> str:
    """The id of the `number`-th synthetic provider: provider-0001, provider-0002, …"""
    return f"provider-{number:04d}"


def _provider(number: int, today: dt.date) -> dict[str, Any]:
    pid = provider_id(number)
    tag = f"{number:04d}"
    domain = f"{pid}.example"
    models = [
        {
            "name": f"p{tag}-model-{m}",
            "upstream": f"model-{m}-v{1 + m % 3}",
            "tier": TIERS[m % len(TIERS)],
            **(
                {
                    "notes": _text(
                        f"第 {m} 号模型适合长文本，响应稍慢。", f"Model {m} suits long inputs and answers slower."
                    )
                }
                if m % 4 == 0
                else {}
            ),
        }
        for m in range(1, MODELS_PER_PROVIDER + 1)
    ]
    step_links = ("console", "billing", None, "api_keys", "usage")
    steps = [
        {
            "text": _text(
                f"第 {s} 步：在服务商 {tag} 的控制台里完成对应操作，并确认页面上的状态已经更新。",
                f"Step {s}: do this part in the console of provider {tag} and check that the page shows the new state.",
            ),
            **({"link": step_links[s - 1]} if step_links[s - 1] else {}),
        }
        for s in range(1, RECHARGE_STEPS + 1)
    ]
    faqs = []
    for f in range(1, FAQS_PER_PROVIDER + 1):
        related = [f"{pid}-faq-{f % FAQS_PER_PROVIDER + 1}", "topped-up-still-failing"]
        faqs.append(
            {
                "id": f"{pid}-faq-{f}",
                "question": _text(
                    f"服务商 {tag} 的第 {f} 个常见问题怎么处理？",
                    f"How do we handle question {f} about provider {tag}?",
                ),
                "answer": _text(
                    f"先看服务商 {tag} 控制台上的状态，再按下面的步骤处理；大多数情况下十分钟内可以恢复。",
                    f"Look at the status in the console of provider {tag} first, then follow the steps below; "
                    "most cases are fixed within ten minutes.",
                ),
                "basis": _text(
                    f"服务商 {tag} 的控制台会显示余额、限额和密钥的状态。",
                    f"The console of provider {tag} shows the balance, the limits and the state of each key.",
                ),
                "boundary": _text(
                    "如果控制台一切正常，问题多半出在代理的配置上。",
                    "If the console looks fine, the problem is most likely in the proxy's config.",
                ),
                "next_steps": [
                    _text("打开控制台，记下当前余额。", "Open the console and note the current balance."),
                    _text("处理完成后做一次冒烟测试。", "Run a smoke test once it is fixed."),
                ],
                "related": related,
            }
        )
    errors = [
        {
            "code": code,
            "status": status,
            "cause": _text(zh, en),
            "check": _text(f"在服务商 {tag} 的控制台查看状态。", f"Check the status in the console of provider {tag}."),
            "fix": _text("按充值步骤处理，然后重载代理。", "Follow the recharge steps, then reload the proxy."),
        }
        for code, status, zh, en in SHARED_ERRORS
    ]
    return {
        "name": _text(f"服务商 {tag}", f"Provider {tag}"),
        "summary": _text(
            f"服务商 {tag} 提供十个对话模型，团队用它分担日常请求。",
            f"Provider {tag} serves ten chat models; the team uses it to share the everyday load.",
        ),
        "litellm_prefix": f"p{tag}",
        "env_var": f"P{tag}_API_KEY",
        "domains": [domain],
        "api_hosts": [f"api.{domain}"],
        "urls": {
            "console": f"https://console.{domain}",
            "billing": f"https://console.{domain}/billing",
            "api_keys": f"https://console.{domain}/keys",
            "usage": f"https://console.{domain}/usage",
        },
        "models": models,
        "recharge_steps": steps,
        "payment_notes": [
            _text("只接受能付美元的信用卡。", "Only credit cards that can pay in US dollars are accepted."),
            _text("用量按 UTC 统计。", "Usage is counted in UTC."),
        ],
        "faqs": faqs,
        "errors": errors,
        "verified_on": today - dt.timedelta(days=number % 90),
    }


def _team(today: dt.date) -> dict[str, Any]:
    general = [
        ("topped-up-still-failing", "充值了为什么还是报错", "Why do requests still fail after a top-up"),
        ("insufficient-quota", "额度不足是什么意思", "What does insufficient quota mean"),
        ("who-pays", "谁负责付款", "Who pays the bills"),
        ("rotate-keys", "多久轮换一次密钥", "How often do we rotate keys"),
        ("spending-cap", "怎么设置消费上限", "How do we set a spending cap"),
    ]
    return {
        "team": _text("基准测试组", "Benchmark team"),
        "account": {
            "email": "ops@team.example",
            "scope": _text("所有服务商的控制台都用这个账号登录。", "This account signs in to every console."),
            "two_factor": _text("验证码发到这个邮箱。", "Verification codes go to this mailbox."),
        },
        "server": {
            "keys_file": "/srv/litellm/api_keys.env",
            "config_file": "/srv/litellm/config.yaml",
            "reload_script": "/srv/litellm/reload.sh",
            "proxy_url": "http://127.0.0.1:4001",
            "master_key_env": "LITELLM_MASTER_KEY",
            "smoke_test_model": "p0001-model-1",
            "chat_ui": "Open WebUI",
        },
        "never_share": [
            _text("完整的 API 密钥。", "A full API key."),
            _text("带有 `Authorization` 的请求头。", "A request header that carries `Authorization`."),
        ],
        "after_recharge": [
            {
                "id": "edit-keys",
                "title": _text("更新密钥文件", "Update the keys file"),
                "body": _text("只替换对应服务商那一行。", "Replace only that provider's line."),
                "command": "edit_keys",
            },
            {
                "id": "reload",
                "title": _text("重载代理", "Reload the proxy"),
                "body": _text("让代理读到新的密钥。", "Let the proxy pick up the new key."),
                "command": "reload",
            },
            {
                "id": "smoke-test",
                "title": _text("冒烟测试", "Smoke-test"),
                "body": _text("发一条最简单的请求。", "Send the simplest possible request."),
                "command": "smoke_test",
            },
        ],
        "roles": [
            {
                "id": "lead",
                "name": _text("技术负责人", "Tech lead"),
                "holds": _text("统一账号", "The shared account"),
                "may": [_text("付款和轮换密钥", "Pay and rotate keys")],
                "may_not": [_text("把密钥发到群里", "Post a key in a group chat")],
            },
            {
                "id": "operator",
                "name": _text("运维", "Operator"),
                "holds": _text("服务器权限", "Access to the server"),
                "may": [_text("更新密钥文件并重载代理", "Update the keys file and reload the proxy")],
            },
        ],
        "faqs": [
            {
                "id": fid,
                "question": _text(zh + "？", en + "?"),
                "answer": _text(f"{zh}：先看服务商页面上的说明。", f"{en}: start with the provider's page."),
                "basis": _text(
                    "每家服务商的页面都写明了控制台和错误码。", "Each provider's page lists its consoles and errors."
                ),
                "boundary": _text(
                    "服务商页面没有提到的情况，请联系运维。", "For anything the page does not cover, ask the operator."
                ),
            }
            for fid, zh, en in general
        ],
        "cost_control": {
            "intro": _text("按档位选择模型，控制成本。", "Pick models by tier to keep costs down."),
            "tiers": [
                {"id": "economy", "name": _text("经济", "Economy"), "use_for": _text("日常对话", "Everyday chat")},
                {"id": "standard", "name": _text("标准", "Standard"), "use_for": _text("一般任务", "General work")},
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
                    "id": "budgets",
                    "name": _text("预算", "Budgets"),
                    "purpose": _text("限制每把密钥的消耗", "Cap what each key spends"),
                    "example": _text("每月一百美元", "100 US dollars a month"),
                    "risk": _text("账单失控", "A runaway bill"),
                    "litellm": {
                        "feature": _text("团队与虚拟密钥", "Teams and virtual keys"),
                        "how": _text("每个环境一把密钥。", "One key per environment."),
                        "examples": ["key", "proxy_budget"],
                    },
                }
            ],
            "proxy": proxy_plan(owner="operator"),
            "rollout": [_text("先给每个成员发独立的密钥。", "Give every member a key of their own first.")],
            "evidence": [_text("每把密钥的归属", "Who owns each key")],
            "mistakes": [_text("所有人共用一把密钥。", "Everyone sharing one key.")],
        },
        "verified_on": today,
    }


def proxy_plan(owner: str) -> dict[str, Any]:
    """A schema-valid LiteLLM proxy plan (team.yaml cost_control.proxy): one team, one key owned by role `owner`."""
    return {
        "budget": {"max_budget": 50, "budget_duration": "30d"},
        "num_retries": 2,
        "default_key_tiers": ["economy"],
        "teams": [
            {
                "id": "production",
                "purpose": _text("日常使用", "Everyday use"),
                "max_budget": 40,
                "budget_duration": "30d",
                "tiers": ["economy", "premium"],
            }
        ],
        "keys": [
            {
                "alias": "chat-production",
                "team": "production",
                "owner": owner,
                "environment": "production",
                "max_budget": 30,
                "soft_budget": 20,
                "budget_duration": "30d",
                "rpm_limit": 60,
                "tpm_limit": 100000,
            }
        ],
        "alerting": {
            "channel": "slack",
            "webhook_env": "SLACK_WEBHOOK_URL",
            "types": ["budget_alerts"],
            "threshold_seconds": 300,
        },
        "spend_logs": {"retention": "30d", "database_env": "DATABASE_URL"},
    }


def generate(count: int, *, today: dt.date | None = None) -> dict[str, Any]:
    """The data set as plain Python: {"providers": …, "team": …}, with `count` providers."""
    if count < 1:
        raise ValueError("the data set needs at least one provider")
    today = today or dt.date.today()
    providers = {provider_id(n): _provider(n, today) for n in range(1, count + 1)}
    return {"providers": {"providers": providers}, "team": _team(today), "prices": _prices(providers, today)}


def _prices(providers: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """A price snapshot (data/prices.yaml) with made-up prices for every model."""
    models = {
        model["name"]: {
            "litellm_model": f"{provider['litellm_prefix']}/{model['upstream']}",
            "price_map_key": f"{provider['litellm_prefix']}/{model['upstream']}",
            "mode": "chat",
            "input_usd_per_mtok": 0.5,
            "output_usd_per_mtok": 2.0,
            "max_input_tokens": 128000,
            "max_output_tokens": 16384,
        }
        for provider in providers.values()
        for model in provider["models"]
    }
    source = {
        "package": "litellm",
        "version": "1.106.2",
        "file": "litellm/model_prices_and_context_window_backup.json",
        "synced_on": today,
    }
    return {"source": source, "models": models}


def proxy_config(data: dict[str, Any]) -> dict[str, Any]:
    """A LiteLLM config serving every model of the data set through its OpenAI-compatible endpoint."""
    deployments = [
        {
            "model_name": model["name"],
            "litellm_params": {
                "model": f"openai/{model['upstream']}",
                "api_base": f"https://{provider['api_hosts'][0]}/v1",
                "api_key": f"os.environ/{provider['env_var']}",
            },
        }
        for provider in data["providers"]["providers"].values()
        for model in provider["models"]
    ]
    return {"model_list": deployments, "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"}}


def write(root: Path, count: int, *, today: dt.date | None = None) -> Path:
    """Write the data set of `count` providers as `root`/data/…; return that data directory."""
    data = generate(count, today=today)
    data_dir = root / "data"
    (data_dir / "litellm").mkdir(parents=True, exist_ok=True)
    for key, value in data.items():
        _dump(value, data_dir / f"{key}.yaml")
    _dump(proxy_config(data), data_dir / "litellm" / "config.yaml")
    return data_dir


def _dump(value: Any, path: Path) -> None:
    text = yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)
    path.write_text(text, encoding="utf-8")


# The C emitter when PyYAML has it: dumping 1,000 providers with the pure-Python one takes seconds.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def main(argv: list[str] | None = None) -> int:
    """Command line: write a data set of N providers into a directory."""
    parser = argparse.ArgumentParser(
        prog="python bench/generate.py",
        description="Write a synthetic, schema-valid data set (data/providers.yaml, data/team.yaml, "
        "data/litellm/config.yaml) of N providers into DIR, for benchmarking the build.",
    )
    parser.add_argument("count", type=int, metavar="N", help="number of providers (at least 1)")
    parser.add_argument("dir", type=Path, metavar="DIR", help="where to write; the data goes to DIR/data")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("N must be at least 1")
    if (args.dir / "data").resolve() == (Path(__file__).resolve().parent.parent / "data"):
        parser.error("refusing to overwrite the repository's own data/; pick another directory")
    data_dir = write(args.dir, args.count)
    print(f"wrote {args.count} provider(s) to {data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
