"""`explain`: every observation maps to its own entry, near misses do not, keys are never echoed, both languages."""

from __future__ import annotations

import json
import secrets

import pytest

from runbooks.explain import catalog, explain, hide_keys
from runbooks.render import render
from runbooks.schema import LANGUAGES
from runbooks.site import Site

from .cli import run_cli
from .conftest import ROOT, SITE_URL


def _observations():
    from runbooks.loader import load

    return sorted(load(ROOT / "data").observations.errors.items())


OBSERVATIONS = _observations()


def _seen(obs) -> dict[str, str]:
    """The texts a person could paste for one observation: the JSON curl printed, the message, the log line."""
    texts = {}
    if obs.member is not None:
        texts["message"] = obs.member.message
        if obs.member.status:
            error = {"message": obs.member.message, "type": obs.member.type, "param": None, "code": obs.member.code}
            texts["json"] = json.dumps({"error": error}, ensure_ascii=False)
    errors = [line for line in obs.log if "ERROR" in line or "WARNING" in line]
    if errors:
        texts["log"] = errors[0]
    if obs.sdk is not None and obs.sdk.message:
        texts["sdk"] = f"{obs.sdk.exception}: {obs.sdk.message}"
    return texts


CASES = [(key, kind, text) for key, obs in OBSERVATIONS for kind, text in _seen(obs).items()]


@pytest.mark.parametrize(("key", "kind", "text"), CASES, ids=[f"{k}:{kind}" for k, kind, _ in CASES])
def test_every_observation_maps_to_its_own_entry(dataset, key, kind, text):
    found = explain(text, dataset)
    assert [entry.key for entry in found.matches] == [key]


def test_every_catalog_entry_is_explainable(dataset):
    keys = {entry.key for entry in catalog(dataset)}
    expected = {f"{pid}/{e.code}" for pid, p in dataset.providers.providers.items() for e in p.errors}
    expected |= {f"proxy/{e.id}" for e in dataset.proxy_errors.errors}
    assert keys == expected


NEAR_MISSES = [
    # Gemini's rate-limit message starts like OpenAI's out-of-credit one; the link and the provider tell them apart.
    (
        "You exceeded your current quota, please check your plan and billing details. For more information on "
        "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        ["gemini/RESOURCE_EXHAUSTED"],
    ),
    ("OpenAIException - You exceeded your current quota", ["openai/insufficient_quota"]),
    # OpenAI's rate-limit message contains DeepSeek's phrase; the exception names the provider.
    (
        "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for gpt-5-mini in "
        "organization org-abc on requests per min (RPM)",
        ["openai/rate_limit_exceeded"],
    ),
    ("litellm.RateLimitError: DeepseekException - Rate Limit Reached", ["deepseek/Rate Limit Reached"]),
    # Gemini's prepaid credit and its rate limit share RESOURCE_EXHAUSTED.
    (
        '{"code": 429, "message": "Your prepayment credits are depleted.", "status": "RESOURCE_EXHAUSTED"}',
        ["gemini/prepayment credits are depleted"],
    ),
    # Anthropic's two 400s about money.
    ("Your credit balance is too low to access the Anthropic API.", ["anthropic/credit balance is too low"]),
    ("You have reached your specified API usage limits.", ["anthropic/API usage limits"]),
    # The proxy's two kinds of "No deployments available".
    (
        "No deployments available for selected model, Try again in 5 seconds. All deployments for selected "
        "model are in cooldown. Passed model=glm-4.7.",
        ["proxy/deployments-cooling-down"],
    ),
    (
        "No deployments available for selected model. Passed model=claude-sonnet-4.5. Deployments={'x': "
        "{'current_rpm': 60, 'rpm_limit': 60}}",
        ["proxy/deployment-rate-limited"],
    ),
    # Zhipu's three 429s are told apart by their words alone.
    ("429 您当前使用该 API 的并发数过高", ["zai/1302"]),
    ("该模型当前访问量过大,请您稍后再试", ["zai/1305"]),
    ("Authentication Error, Invalid proxy server token passed. key=abc, not found in db.", ["proxy/key-not-found"]),
]


@pytest.mark.parametrize(("text", "expected"), NEAR_MISSES)
def test_near_misses_match_the_right_entry(dataset, text, expected):
    assert [entry.key for entry in explain(text, dataset).matches] == expected


@pytest.mark.parametrize("text", ["429", "Too Many Requests", "Internal Server Error", "the model is slow today", ""])
def test_nothing_specific_matches_nothing(dataset, text):
    assert explain(text, dataset).matches == []


def test_a_phrase_shared_by_two_providers_without_other_clues_names_both(dataset):
    found = explain("Rate Limit Reached", dataset)
    assert "deepseek/Rate Limit Reached" in [e.key for e in found.matches]
    assert all("rate" in p.casefold() for e in found.matches for p in e.phrases[:1])


def _keys() -> dict[str, str]:
    """Key-shaped strings built at run time: none is a real key, none is written in the repository."""
    token = secrets.token_hex(20)
    return {
        "openai": "sk-proj-" + token,
        "anthropic": "sk-ant-api03-" + token,
        "litellm": "sk-" + token[:32],
        "google": "AIza" + secrets.token_urlsafe(26)[:35],
        "zhipu": secrets.token_hex(16) + "." + secrets.token_urlsafe(12)[:16],
    }


@pytest.mark.parametrize("kind", sorted(_keys()))
def test_a_key_in_the_pasted_text_is_never_printed(kind):
    key = _keys()[kind]
    pasted = f"Authorization: Bearer {key}\nlitellm.RateLimitError: OpenAIException - You exceeded your current quota"
    for fmt in ("human", "json"):
        result = run_cli("explain", pasted, "--format", fmt)
        assert result.returncode == 0
        assert key not in result.stdout + result.stderr
        assert key[-8:] not in result.stdout + result.stderr
    human = run_cli("explain", f"{kind} key {key} and nothing else")
    assert key not in human.stdout + human.stderr
    assert "hidden" in human.stdout


def test_hiding_keys_leaves_the_message_and_counts_them():
    keys = _keys()
    text = f"x-api-key: {keys['anthropic']} invalid x-api-key; key={keys['litellm']}"
    clean, count = hide_keys(text)
    assert count == 2 and "invalid x-api-key" in clean
    assert keys["anthropic"] not in clean and keys["litellm"] not in clean


def test_the_answer_names_provider_meaning_check_fix_and_the_page(dataset):
    result = run_cli(
        "explain",
        "--site-url",
        "https://runbooks.example.org/",
        "litellm.AuthenticationError: GeminiException - API key not valid. Please pass a valid API key.",
    )
    assert result.returncode == 0
    err = next(e for e in dataset.providers.providers["gemini"].errors if e.code == "API_KEY_INVALID")
    for part in ("Google Gemini", err.cause("en"), err.check("en"), err.fix("en")):
        assert part in result.stdout
    assert "https://runbooks.example.org/en/providers/gemini/#error-api-key-invalid" in result.stdout


def test_the_answer_is_in_the_language_of_the_text_unless_asked(dataset):
    zh = run_cli("explain", "余额不足或无可用资源包,请充值。")
    err = next(e for e in dataset.providers.providers["zai"].errors if e.code == "1113")
    assert err.cause("zh") in zh.stdout and f"{SITE_URL}providers/zai/#error-1113" in zh.stdout
    en = run_cli("explain", "--lang", "en", "余额不足或无可用资源包,请充值。")
    assert err.cause("en") in en.stdout and f"{SITE_URL}en/providers/zai/#error-1113" in en.stdout


def test_the_page_anchor_exists_on_the_page(dataset):
    site = Site.of(dataset)
    for entry in catalog(dataset):
        for lang in LANGUAGES:
            url = entry.url(SITE_URL, lang)
            path, anchor = url.removeprefix(SITE_URL).removeprefix(f"{lang}/" if lang != "zh" else "").split("/#")
            page = render(site.page(f"{path}.md"), site, lang)
            assert f"{{ #{anchor} }}" in page, url


def test_no_match_says_so_and_what_to_send(monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("something went sideways at 14:02"))
    result = run_cli("explain")
    assert result.returncode == 1
    assert "Nothing in the error catalog matches" in result.stdout
    for detail in ("time of the error", "model name", "HTTP status", "Open WebUI"):
        assert detail in result.stdout
    assert "Never send a full key" in result.stdout
    zh = run_cli("explain", "出了点问题")
    assert zh.returncode == 1 and "错误码速查里没有" in zh.stdout


def test_json_output_carries_the_match(dataset):
    result = run_cli("explain", "--format", "json", "litellm.BadRequestError: DeepseekException - Insufficient Balance")
    report = json.loads(result.stdout)
    (match,) = report["explanation"]["matched"]
    assert match["entry"] == "deepseek/Insufficient Balance" and match["provider"] == "deepseek"
    assert match["url"].endswith("/en/providers/deepseek/#error-insufficient-balance")
