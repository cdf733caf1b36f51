"""The secrets gate: planted keys are found in every form a built site holds them, look-alikes are not."""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
import random
import string
import struct
import subprocess
import sys
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbooks import cli
from runbooks.checks import site_files as site_files_module
from runbooks.checks.secrets import read_env_file, scan_secrets
from runbooks.findings import Finding, Unreadable

from .conftest import ROOT

# Every key below is generated at run time from this seed; none is written out in this file.
SEED = 20260115
KEYS_PER_SHAPE = 12
ALNUM = string.ascii_letters + string.digits
KEY_CHARS = ALNUM + "-_"
HEX = string.digits + "abcdef"
# OpenAI puts base64("OpenAI") in the middle of its keys.
OPENAI_MARKER = base64.b64encode(b"OpenAI").decode()
HEADER_TOKEN = "Token in an HTTP header"


def _pick(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _prefix(*parts: str) -> str:
    return "-".join([*parts, ""])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": _pick(rng, ALNUM, 12), "iat": rng.randint(1_700_000_000, 1_800_000_000), "team": "ops"}
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_pick(rng, KEY_CHARS, 43)}"


def _private_key(rng: random.Random) -> str:
    # A header and the first line of a key body, as a page or the search index holds it on one line.
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "DSA ", ""])
    body = base64.b64encode(rng.randbytes(48)).decode()
    return "-" * 5 + "BEGIN " + kind + "PRIVATE KEY" + "-" * 5 + " " + body


def _litellm_key(rng: random.Random) -> str:
    # Virtual keys are 22 url-safe characters; master keys are whatever length the team chose.
    return _prefix("sk") + _pick(rng, KEY_CHARS, rng.choice([22, 22, 24, 32, 40]))


SHAPES: dict[str, Callable[[random.Random], str]] = {
    "OpenAI project key": lambda r: (
        _prefix("sk", "proj")
        + _pick(r, KEY_CHARS, 56)
        + _pick(r, ALNUM, 20)
        + OPENAI_MARKER
        + _pick(r, ALNUM, 20)
        + _pick(r, KEY_CHARS, 52)
    ),
    "OpenAI service-account key": lambda r: (
        _prefix("sk", "svcacct") + _pick(r, ALNUM, 20) + OPENAI_MARKER + _pick(r, ALNUM, 20) + _pick(r, KEY_CHARS, 90)
    ),
    "OpenAI admin key": lambda r: (
        _prefix("sk", "admin") + _pick(r, KEY_CHARS, 40) + OPENAI_MARKER + _pick(r, ALNUM, 20)
    ),
    "OpenAI legacy key": lambda r: _prefix("sk") + _pick(r, ALNUM, 20) + OPENAI_MARKER + _pick(r, ALNUM, 20),
    "Anthropic API key": lambda r: _prefix("sk", "ant", "api03") + _pick(r, KEY_CHARS, 93) + "AA",
    "Anthropic admin key": lambda r: _prefix("sk", "ant", "admin01") + _pick(r, KEY_CHARS, 93) + "AA",
    "Google API key": lambda r: "AI" + "za" + _pick(r, KEY_CHARS, 35),
    "DeepSeek API key": lambda r: _prefix("sk") + _pick(r, HEX, 32),
    "Zhipu API key": lambda r: _pick(r, HEX, 32) + "." + _pick(r, ALNUM, 16),
    "LiteLLM key": _litellm_key,
    "JSON Web Token": _jwt,
    "Private Key": _private_key,
    # An opaque token is only recognisable by where it is sent.
    HEADER_TOKEN: lambda r: _pick(r, ALNUM, 8) + _pick(r, KEY_CHARS + ".", 40),
}


def _html_escape(value: str) -> str:
    """Escape the way Markdown renderers and hand-written HTML do, in several entity styles at once."""
    out = []
    for index, char in enumerate(value):
        if char == "-":
            out.append("&#x2D;")
        elif char == "_":
            out.append("&#95;")
        elif char == ".":
            out.append("&period;")
        elif index % 7 == 3:
            out.append(f"&#x{ord(char):x};")
        else:
            out.append(char)
    return "&quot;" + "".join(out) + "&quot;"


def _json_escape(text: str) -> str:
    """A JSON string body as Python's json module and Material's search index write it, plus `\\u002d` escapes."""
    return json.dumps(text)[1:-1].replace("-", "\\u002d").replace("/", "\\/")


@dataclass(frozen=True)
class Place:
    """One file form of the site: its path, its lines before the plantings, and how one planting is written."""

    path: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    line: Callable[[str], str]
    in_header: bool = False


def _curl_html(token: str) -> str:
    # As Pygments highlights a bash code block: the token sits in its own span.
    return (
        '<span class="w">  </span>-H<span class="w"> </span><span class="s2">&quot;Authorization: Bearer </span>'
        f'<span class="nv">{token}</span><span class="s2">&quot;</span>'
        '<span class="w"> </span><span class="se">\\</span>'
    )


PLACES = (
    Place(
        "providers/openai/index.html",
        ("<!doctype html>", '<html lang="zh">', "<body><article>", "<h1>OpenAI 充值与密钥</h1>"),
        ("</article></body></html>",),
        lambda text: f"<p>把这把密钥填进去：<code>{text}</code></p>",
    ),
    Place(
        "en/providers/openai/index.html",
        ("<!doctype html>", '<html lang="en">', "<body><article>"),
        ("</article></body></html>",),
        lambda text: f'<pre><code class="language-json">{{&quot;api_key&quot;: {_html_escape(text)}}}</code></pre>',
    ),
    Place(
        "search/search_index.json",
        ('{"config":{"lang":["zh"],"separator":"[\\\\s\\\\-]+","pipeline":["stemmer"]},"docs":[',),
        ('{"location":"","title":"end","text":""}]}',),
        lambda text: (
            f'{{"location":"after-recharge/#smoke-test","title":"\\u5192\\u70df",'
            f'"text":"<p><code>{_json_escape(text)}</code></p>"}},'
        ),
    ),
    Place(
        "after-recharge/index.html",
        ("<!doctype html>", "<body>", '<div class="highlight"><pre><span></span><code>'),
        ("</code></pre></div>", "</body>"),
        _curl_html,
        in_header=True,
    ),
    Place(
        "en/after-recharge/index.md",
        ("# After recharging", "", "```bash"),
        ("```",),
        lambda text: f'curl http://127.0.0.1:4001/v1/models -H "{text}"',
    ),
    Place(
        "sitemap.xml.gz",
        ('<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'),
        ("</urlset>",),
        lambda text: f"<url><loc>https://runbooks.example/?k={text}</loc></url>",
    ),
)


def _write(site_dir: Path, relative: str, lines: list[str]) -> None:
    path = site_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@dataclass(frozen=True)
class Planted:
    """A key written into the fake site, and where."""

    kind: str
    value: str
    file: str
    line: int


def _plant(site_dir: Path, keys: dict[str, list[str]]) -> list[Planted]:
    planted = []
    for place in PLACES:
        lines = list(place.head)
        for kind, values in keys.items():
            for value in values:
                text = value
                # Outside a header line, a header token is written with its header, as in a curl example.
                if kind in (HEADER_TOKEN, "LiteLLM key") and not place.in_header and len(lines) % 2:
                    text = f"Authorization: Bearer {value}"
                elif kind == HEADER_TOKEN and not place.in_header:
                    text = f"x-api-key: {value}"
                lines.append(place.line(text))
                planted.append(Planted(kind, value, f"site/{place.path}", len(lines)))
        _write(site_dir, place.path, lines + list(place.tail))
    return planted


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[str]]:
    rng = random.Random(SEED)
    return {kind: [make(rng) for _ in range(KEYS_PER_SHAPE)] for kind, make in SHAPES.items()}


@pytest.fixture
def planted_site(tmp_path: Path, corpus: dict[str, list[str]]) -> tuple[Path, list[Planted]]:
    site_dir = tmp_path / "site"
    return site_dir, _plant(site_dir, corpus)


def _leaks(findings: list[Finding], values: list[str]) -> list[str]:
    shown = [f"{finding} {json.dumps(finding.to_json(), ensure_ascii=False)}" for finding in findings]
    return [value for value in values if any(value in text or value[:8] in text for text in shown)]


def test_every_planted_key_is_found_in_every_form(planted_site, corpus):
    site_dir, planted = planted_site
    findings = scan_secrets(site_dir)

    found = {(f.file, f.line): f for f in findings if f.reason == "secret"}
    missed = [p for p in planted if (p.file, p.line) not in found]
    misnamed = [p for p in planted if (p.file, p.line) in found and found[p.file, p.line].context["kind"] != p.kind]
    expected = {(p.file, p.line) for p in planted}
    extra = [f for f in findings if (f.file, f.line) not in expected]
    recall = (len(planted) - len(missed)) / len(planted)
    per_shape = Counter(p.kind for p in missed)
    per_place = Counter(p.file for p in missed)
    summary = (
        f"recall {recall:.1%} ({len(planted) - len(missed)}/{len(planted)} planted keys, "
        f"{len(SHAPES)} shapes x {len(PLACES)} forms); missed by shape {dict(per_shape)}, by file {dict(per_place)}; "
        f"misnamed {[(p.kind, found[p.file, p.line].context['kind']) for p in misnamed][:5]}; "
        f"false positives {len(extra)}: {[str(f) for f in extra][:5]}"
    )
    assert not missed and not misnamed and not extra, summary
    assert all(len(values) >= 10 for values in corpus.values()), summary


def test_findings_never_show_the_key(planted_site, corpus):
    site_dir, _ = planted_site
    findings = scan_secrets(site_dir)
    values = [value for kind, values in corpus.items() if kind != "Private Key" for value in values]

    assert findings
    assert not _leaks(findings, values)
    for finding in findings:
        assert finding.reason == "secret"
        assert set(finding.context) == {"kind"}


# What runbooks write instead of a key, also where a key would be sent.
PLACEHOLDERS = (
    "sk-...",
    "sk-…",
    "sk-xxxx",
    "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "sk-proj-...",
    _prefix("sk", "proj") + "x" * 32,
    _prefix("sk", "ant", "api03") + "...",
    _prefix("sk", "ant", "api03") + "x" * 40,
    "AIza...",
    "AI" + "za" + "X" * 35,
    "sk-1234",
    "sk-1234567890abcdef1234567890abcdef",
    "sk-this-is-not-a-real-key-only-an-example",
    "sk-your-litellm-master-key-here",
    "<LITELLM_MASTER_KEY>",
    "$LITELLM_MASTER_KEY",
    "${OPENAI_API_KEY}",
    "os.environ/OPENAI_API_KEY",
    "YOUR_API_KEY",
    "&lt;LITELLM_MASTER_KEY&gt;",
    "&lt;your-api-key&gt;",
)
LOOK_ALIKES = (
    *PLACEHOLDERS,
    "api_key: os.environ/ANTHROPIC_API_KEY",
    "export OPENAI_API_KEY=sk-...",
    "export GEMINI_API_KEY=&lt;your key&gt;",
    'curl -H "Authorization: Bearer $LITELLM_MASTER_KEY" http://127.0.0.1:4001/v1/models',
    'curl -H "Authorization: Bearer <LITELLM_MASTER_KEY>" http://127.0.0.1:4001/v1/models',
    "curl -H &quot;Authorization: Bearer &lt;LITELLM_MASTER_KEY&gt;&quot;",
    'curl -H "Authorization: Bearer ${OPENAI_API_KEY}"',
    'curl -H "Authorization: Bearer YOUR_API_KEY"',
    'curl -H "Authorization: Bearer sk-your-key-here"',
    'curl -H "x-api-key: $ANTHROPIC_API_KEY" -H "anthropic-version: 2023-06-01"',
    'curl -H "x-goog-api-key: $GEMINI_API_KEY"',
    "The Authorization: Bearer header carries the proxy key, followed by the request body.",
    # Model ids, routes and provider URLs.
    "gpt-5.1-codex-max",
    "openai/gpt-5.1",
    "claude-sonnet-4-5",
    "anthropic/claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "glm-4.5-flash",
    "zai/glm-4.6",
    "deepseek/deepseek-reasoner",
    "gemini/gemini-2.5-pro",
    "https://platform.openai.com/api-keys",
    "https://platform.openai.com/settings/organization/admin-keys",
    "https://console.anthropic.com/settings/keys",
    "https://aistudio.google.com/app/apikey",
    "https://platform.deepseek.com/api_keys",
    "https://open.bigmodel.cn/usercenter/proj-mgmt/apikeys",
    "https://z.ai/manage-apikey/apikey-list",
    # Asset names and integrity hashes.
    '<script src="assets/javascripts/bundle.6c3a2f9e.min.js"></script>',
    '<link rel="stylesheet" href="assets/stylesheets/main.abc123def.min.css">',
    "main.abc123def.min.js",
    "bundle.6c3a2f9e.min.css",
    'integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"',
    # Material's search index and theme code.
    '"separator":"[\\\\s\\\\u200b\\\\u3000\\\\-\\u3001\\u3002\\uff0c]+"',
    '{"location":"providers/openai/#sk","title":"sk- \\u5f00\\u5934","text":"<p>\\u5bc6\\u94a5</p>"}',
    'var __md_scope=new URL("..",location),__md_hash=e=>[...e].reduce((e,t)=>(e<<5)-e+t.charCodeAt(0),0)',
    '<div data-md-component="search-query" data-md-state="" data-md-type="task-list">',
    ".md-typeset .task-list-control{mask-image:var(--md-tasklist-icon);-webkit-mask-size:contain}",
    # Chinese text about keys.
    "把完整的密钥（以 sk- 开头）粘贴到任何聊天或工单里都是不允许的。",
    f"OpenAI 项目密钥形如 sk-proj-…，Anthropic 的形如 {_prefix('sk', 'ant', 'api03')}…，不要外传。",
    "智谱的密钥由一个 id 和一个 secret 组成，用英文句点连接。",
)


def _look_alike_lines(rng: random.Random) -> list[str]:
    # Ids and hashes a theme and a build produce in bulk, generated the way they are generated.
    made = []
    for _ in range(20):
        made.append(f'"{uuid.UUID(int=rng.getrandbits(128))}"')
        made.append(f"assets/javascripts/workers/search.{_pick(rng, HEX, 8)}.min.js")
        made.append(f"commit {_pick(rng, HEX, 40)}")
        made.append(f"md5 {_pick(rng, HEX, 32)}  sha256 {_pick(rng, HEX, 64)}")
        made.append(f"{_pick(rng, HEX, 32)}.min.js")
    return list(LOOK_ALIKES) + made


def test_look_alikes_are_not_reported(tmp_path):
    site_dir = tmp_path / "site"
    lines = _look_alike_lines(random.Random(SEED))
    for place in PLACES:
        # A header line in a code block only ever shows a placeholder after `Bearer`.
        shown = PLACEHOLDERS if place.in_header else lines
        _write(site_dir, place.path, [*place.head, *(place.line(text) for text in shown), *place.tail])
    # The placeholders also as a page shows them: raw, and as plain text between tags.
    _write(site_dir, "faq/index.html", [f"<li>{text}</li>" for text in lines])
    _write(site_dir, "llms.txt", lines)

    findings = scan_secrets(site_dir)

    total = len(lines) * (len(PLACES) + 1) + len(PLACEHOLDERS)
    listed = "; ".join(map(str, findings[:10]))
    assert not findings, f"false positives {len(findings)} of {total} look-alike lines: {listed}"


def test_the_real_site_has_no_findings(site):
    findings = scan_secrets(site)

    assert findings == [], "\n".join(map(str, findings))


def test_binary_files_are_skipped_and_text_gz_is_read(tmp_path, corpus):
    site_dir = tmp_path / "site"
    key = corpus["Google API key"][0]
    (site_dir / "assets" / "images").mkdir(parents=True)
    (site_dir / "assets" / "images" / "favicon.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + key.encode())
    (site_dir / "assets" / "fonts.gz").write_bytes(gzip.compress(b"\0\1\2" + key.encode()))
    _write(site_dir, "en/sitemap.xml.gz", ["<urlset>", f"<url><loc>https://x.example/?k={key}</loc></url>"])

    findings = scan_secrets(site_dir, display_root=tmp_path)

    assert [(f.file, f.line, f.context) for f in findings] == [
        ("site/en/sitemap.xml.gz", 2, {"kind": "Google API key"})
    ]


def test_a_broken_gz_file_is_unreadable_and_keeps_the_other_findings(tmp_path, corpus):
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", [f"<p>{corpus['DeepSeek API key'][0]}</p>"])
    (site_dir / "sitemap.xml.gz").write_bytes(b"not gzip at all")

    with pytest.raises(Unreadable) as caught:
        scan_secrets(site_dir)

    reasons = sorted((f.reason, f.file) for f in caught.value.findings)
    assert reasons == [("secret", "site/index.html"), ("unreadable", "site/sitemap.xml.gz")]


@pytest.mark.parametrize("make", [lambda root: root / "missing", lambda root: root / "file.html"])
def test_a_missing_site_is_unreadable(tmp_path, make):
    (tmp_path / "file.html").write_text("<p></p>", encoding="utf-8")

    with pytest.raises(Unreadable) as caught:
        scan_secrets(make(tmp_path))

    assert [f.reason for f in caught.value.findings] == ["unreadable"]


@dataclass(frozen=True)
class EnvValues:
    """A fake api_keys.env and the values written into it."""

    path: Path
    openai: str
    password: str
    salt: str


@pytest.fixture
def env_values(tmp_path: Path, corpus: dict[str, list[str]]) -> EnvValues:
    rng = random.Random(SEED + 1)
    values = EnvValues(
        tmp_path / "api_keys.env",
        openai=corpus["OpenAI project key"][-1],
        password=_pick(rng, ALNUM, 20),
        salt=_pick(rng, ALNUM, 12) + "#" + _pick(rng, ALNUM, 6),
    )
    values.path.write_text(
        "\n".join(
            [
                "# The proxy's keys; reload.sh reads this file.",
                f'export OPENAI_API_KEY="{values.openai}"',
                f"UI_PASSWORD={values.password}   # rotated monthly",
                f"LITELLM_SALT_KEY='{values.salt}'",
                "LITELLM_MASTER_KEY=sk-1234",
                "GEMINI_API_KEY=",
                "DEEPSEEK_API_KEY=${OPENAI_API_KEY}",
                "ZAI_API_KEY=<your key>",
                "ANTHROPIC_API_KEY=sk-ant-...",
                "PROXY_URL=http://127.0.0.1:4001",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return values


def test_env_file_is_parsed_like_dotenv(env_values):
    assert read_env_file(env_values.path) == {
        "OPENAI_API_KEY": env_values.openai,
        "UI_PASSWORD": env_values.password,
        "LITELLM_SALT_KEY": env_values.salt,
    }


@pytest.mark.parametrize(
    "write",
    [
        lambda value: f"<p>密码是 <code>{value}</code></p>",
        lambda value: f"<pre><code>UI_PASSWORD={_html_escape(value)}</code></pre>",
        lambda value: f'{{"docs":[{{"text":"<code>{_json_escape(value)}</code>"}}]}}',
    ],
)
def test_an_env_value_in_a_page_is_reported_by_its_variable(tmp_path, env_values, write):
    site_dir = tmp_path / "site"
    _write(site_dir, "roles/index.html", ["<h1>角色</h1>", write(env_values.password)])

    findings = scan_secrets(site_dir, env_values.path)

    assert [(f.reason, f.file, f.line, f.context) for f in findings] == [
        ("env_value", "site/roles/index.html", 2, {"variable": "UI_PASSWORD"})
    ]
    assert not _leaks(findings, [env_values.password])


def test_an_env_value_that_is_also_a_key_is_reported_once_by_its_variable(tmp_path, env_values):
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", [f"<code>{env_values.openai}</code>", f"<code>{env_values.salt}</code>"])

    findings = scan_secrets(site_dir, env_values.path)

    assert [(f.reason, f.line, f.context) for f in findings] == [
        ("env_value", 1, {"variable": "OPENAI_API_KEY"}),
        ("env_value", 2, {"variable": "LITELLM_SALT_KEY"}),
    ]
    assert not _leaks(findings, [env_values.openai, env_values.salt])


def test_short_and_placeholder_env_values_are_not_guarded(tmp_path, env_values):
    site_dir = tmp_path / "site"
    _write(
        site_dir,
        "after-recharge/index.html",
        ["<code>LITELLM_MASTER_KEY=sk-1234</code>", "<code>http://127.0.0.1:4001</code>", "${OPENAI_API_KEY}"],
    )

    assert scan_secrets(site_dir, env_values.path) == []


def test_a_missing_env_file_is_unreadable(tmp_path):
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", ["<p></p>"])

    with pytest.raises(Unreadable) as caught:
        scan_secrets(site_dir, tmp_path / "api_keys.env")

    assert [(f.reason, f.file) for f in caught.value.findings] == [("unreadable", str(tmp_path / "api_keys.env"))]


# --- Every kind a LiteLLM team can leak, in every form a built page holds it.


def _password(rng: random.Random) -> str:
    # Letters, digits and a sign or two, as a password manager makes them.
    return (
        _pick(rng, ALNUM, 5)
        + rng.choice("#%+=!@^~")
        + _pick(rng, ALNUM, 6)
        + rng.choice("#%+=!@^~")
        + _pick(rng, ALNUM, 3)
    )


def _token(rng: random.Random, length: int = 40) -> str:
    return _pick(rng, ALNUM, length)


def _basic(rng: random.Random) -> str:
    return base64.b64encode(f"ops-bot:{_password(rng)}".encode()).decode()


@dataclass(frozen=True)
class Written:
    """A secret as a runbook writes it: the kind it must be reported as, the line, the value, the lexer of its block."""

    kind: str
    text: str
    value: str
    lexer: str = "bash"


def _written(rng: random.Random) -> list[Written]:
    pw, tok = _password(rng), _token(rng)
    cases = [
        Written("Password", f"账号：ops@team.example 密码：{pw}", pw, "text"),
        Written("Password", f"共享账号 login: ops / password: {pw}", pw, "text"),
        Written("Password in a curl command", f"curl -u ops:{pw} https://grafana.team.example/api/health", pw),
        Written("Password in a URL", f"DATABASE_URL=postgresql://litellm:{pw}@db.internal:5432/litellm", pw),
        Written("Password in a URL", f"REDIS_URL=redis://default:{pw}@cache.internal:6379/0", pw),
        Written("Password in a URL", f"rediss://:{pw}@cache.internal:6380", pw),
        Written("Password in a URL", f"https://ops:{pw}@grafana.team.example/dashboards", pw),
    ]
    upper = string.ascii_uppercase + string.digits
    slack = f"T{_pick(rng, upper, 8)}/B{_pick(rng, upper, 10)}/{_token(rng, 24)}"
    discord = f"{rng.randint(10**17, 10**18 - 1)}/{_pick(rng, KEY_CHARS, 68)}"
    teams_id = "-".join(_pick(rng, HEX, n) for n in (8, 4, 4, 4, 12))
    teams_token = _pick(rng, HEX, 32)
    salt = "sk-" + _token(rng, 32)
    cases += [
        Written("Slack webhook URL", f"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{slack}", slack),
        Written("Discord webhook URL", f'DISCORD_WEBHOOK_URL="https://discord.com/api/webhooks/{discord}"', discord),
        Written(
            "Microsoft Teams webhook URL",
            f"MS_TEAMS_WEBHOOK_URL=https://team.webhook.office.com/webhookb2/{teams_id}@{teams_id}/IncomingWebhook/"
            f"{teams_token}/{teams_id}",
            teams_token,
        ),
        Written("LiteLLM UI password", f"UI_PASSWORD={pw}", pw),
        Written("LiteLLM UI password", f'UI_PASSWORD: "{pw}"', pw, "yaml"),
        Written("LiteLLM salt key", f"export LITELLM_SALT_KEY={salt}", salt),
        Written("Secret assigned to a variable", f"LANGFUSE_SECRET_KEY={tok}", tok),
        Written("Secret assigned to a variable", f"GRAFANA_API_TOKEN='{tok}'", tok),
        Written("Secret assigned to a variable", f"SMTP_PASSWORD={pw}", pw),
        Written("Secret assigned to a variable", f"  webhook_secret: {tok}", tok, "yaml"),
    ]
    basic = _basic(rng)
    cases += [
        Written("Basic credentials in an HTTP header", f'curl -H "Authorization: Basic {basic}" $URL', basic),
        Written(HEADER_TOKEN, f'curl -H "Authorization: Token {tok}" $URL', tok),
        Written(HEADER_TOKEN, f'curl -H "Authorization: Api-Token {tok}" $URL', tok),
        Written(HEADER_TOKEN, f'curl -H "Authorization: {tok}" $URL', tok),
        Written(HEADER_TOKEN, f'curl -H "Authorization: Bearer _{tok}" $URL', "_" + tok),
        Written(HEADER_TOKEN, f'curl -H "Authorization: Bearer -{tok}" $URL', "-" + tok),
        Written(HEADER_TOKEN, f'headers = {{"Authorization": "Bearer {tok}"}}', tok, "python"),
        Written(HEADER_TOKEN, f"fetch(url, {{ headers: {{ 'x-api-key': '{tok}' }} }})", tok, "javascript"),
        Written(HEADER_TOKEN, f"https://relay.team.example/?header=Authorization%3A%20Bearer%20{tok}", tok, "text"),
        Written(HEADER_TOKEN, f"Authorization: Bearer%20{tok}", tok, "text"),
    ]
    gemini = "AQ." + _pick(rng, KEY_CHARS, 50)
    cases.append(Written("Google API key", f"export GEMINI_API_KEY={gemini}", gemini))
    return cases


def _highlighted(text: str, lexer: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    return highlight(text, get_lexer_by_name(lexer), HtmlFormatter(cssclass="highlight"))


# The five forms a line of a runbook takes in the built site.
FORMS: dict[str, Callable[[Written], str]] = {
    "html text": lambda w: f"<p>团队的配置：<code>{html.escape(w.text, quote=False)}</code></p>",
    "html-escaped": lambda w: f"<p>{_html_escape(w.text)}</p>",
    "attribute": lambda w: f'<button class="md-clipboard" data-clipboard-text="{html.escape(w.text)}">copy</button>',
    "pygments": lambda w: _highlighted(w.text, w.lexer),
    "search index": lambda w: json.dumps(
        {"docs": [{"location": "ops/", "title": "运维", "text": f"<p><code>{html.escape(w.text)}</code></p>"}]}
    ),
}


@pytest.fixture(scope="module")
def written() -> list[Written]:
    return _written(random.Random(SEED + 2))


@pytest.mark.parametrize("form", FORMS)
def test_every_kind_a_team_leaks_is_found_in_every_form(tmp_path, written, form):
    site_dir = tmp_path / "site"
    files = {}
    for index, case in enumerate(written):
        relative = f"ops/{index:02d}/index.html" if form != "search index" else f"search/{index:02d}.json"
        _write(site_dir, relative, ["<!doctype html>", FORMS[form](case), "</html>"])
        files[f"site/{relative}"] = case

    findings = scan_secrets(site_dir)

    reported = {}
    for finding in findings:
        reported.setdefault(finding.file, []).append(finding.context.get("kind"))
    wrong = {
        f"{case.kind}: {case.text[:40]}": reported.get(file)
        for file, case in files.items()
        if reported.get(file) != [case.kind]
    }
    assert not wrong, f"{form}: {len(wrong)} of {len(files)} not reported as exactly their kind: {wrong}"
    assert not _leaks(findings, [case.value for case in written])
    for finding in findings:
        assert not any(case.value[:5] in str(finding) for case in written), str(finding)


# What documentation legitimately shows where these secrets go: none is a finding, in any form.
def _shown_instead(rng: random.Random) -> list[Written]:
    aws_id, aws_secret = "AKIA" + "IOSFODNN7" + "EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
    masked = "sk-" + _pick(rng, ALNUM, 6)
    groq = "gsk_" + _pick(rng, ALNUM, 8)
    lines = [
        ("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", "text"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\n<your key here>\n-----END OPENSSH PRIVATE KEY-----", "text"),
        ("-----BEGIN PRIVATE KEY-----", "text"),
        (f"LITELLM_MASTER_KEY={masked}****", "bash"),
        (f"key: {groq}****…", "yaml"),
        (f'curl -H "Authorization: Bearer {groq}****************" $URL', "bash"),
        (f"OPENAI_API_KEY={masked}•••••••••••••", "bash"),
        ('curl -H "Authorization: Bearer sk-TeamAdminKey123" $URL', "bash"),
        ('curl -H "Authorization: Bearer sk-proxy-auth-123" $URL', "bash"),
        ("LITELLM_MASTER_KEY=sk-1234", "bash"),
        ('curl -H "Authorization: Bearer sk-12345678901234567890" $URL', "bash"),
        ('api_key="sk-1234567890abcdef"', "python"),
        (f"aws_access_key_id = {aws_id}", "ini"),
        (f"aws_secret_access_key = {aws_secret}", "ini"),
        (f'AWS_SECRET_ACCESS_KEY="{aws_secret}"', "bash"),
        ('curl -H "Authorization: Bearer <token>" -H "Custom-Header: value" $URL', "bash"),
        ("Authorization: Bearer &lt;token&gt; Custom-Header: value", "text"),
        ("OPENAI_API_KEY=sk-...", "bash"),
        ("OPENAI_API_KEY=$OPENAI_API_KEY", "bash"),
        ('DATABASE_URL="postgresql://<user>:<password>@<host>:<port>/<dbname>"', "bash"),
        ("DATABASE_URL=postgresql://user:password@localhost:5432/litellm", "bash"),
        ("DATABASE_URL=postgres://llmproxy:dbpassword9090@db:5432/litellm", "bash"),
        ("redis_password: os.environ/REDIS_PASSWORD", "yaml"),
        ("REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379", "bash"),
        ("UI_USERNAME=admin UI_PASSWORD=langchain", "bash"),
        ("UI_PASSWORD=admin123", "bash"),
        ("LITELLM_SALT_KEY=sk-XXXXXXXX", "bash"),
        ("curl -u user:pass https://grafana.team.example", "bash"),
        ('curl -u "$GRAFANA_USER:$GRAFANA_PASSWORD" https://grafana.team.example', "bash"),
        ("SLACK_WEBHOOK_URL=https://hooks.slack.com/services/<>/<>/<>", "bash"),
        ("SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "bash"),
        ("账号：ops@team.example 密码：见 1Password 的 LiteLLM 条目", "text"),
        ("密码：<在密码管理器里>", "text"),
        ("login: admin / password: changeme", "text"),
        ('headers = {"Authorization": f"Bearer {api_key}"}', "python"),
        ("x-litellm-cache-key: 586bf3f3c1bf5aecb55bd9996494d3bbc69eb58397163add6d49537762a7548d", "text"),
        ("api_key: Optional[str] = None", "python"),
        ("GEMINI_API_KEY=AQ.Ab8RN6...", "bash"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "text"),
    ]
    return [Written("", text, "", lexer) for text, lexer in lines]


@pytest.mark.parametrize("form", FORMS)
def test_what_documentation_shows_instead_is_not_reported(tmp_path, form):
    site_dir = tmp_path / "site"
    shown = _shown_instead(random.Random(SEED + 3))
    for index, case in enumerate(shown):
        relative = f"docs/{index:02d}/index.html" if form != "search index" else f"search/{index:02d}.json"
        _write(site_dir, relative, ["<!doctype html>", *FORMS[form](case).split("\n"), "</html>"])

    findings = scan_secrets(site_dir)

    assert not findings, f"{form}: " + "; ".join(
        f"{f}: {shown[int(f.file.split('/')[2].split('.')[0])].text[:60]}" for f in findings
    )


def test_each_finding_names_the_provider_of_the_key(tmp_path, corpus):
    rng = random.Random(SEED + 4)
    anthropic, deepseek = corpus["Anthropic API key"][0], corpus["DeepSeek API key"][0]
    deepseek_alnum = _prefix("sk") + _pick(rng, string.ascii_lowercase + string.digits, 32)
    site_dir = tmp_path / "site"
    _write(
        site_dir,
        "index.html",
        [
            f'<code>curl -H "x-api-key: {anthropic}" -H "anthropic-version: 2023-06-01"</code>',
            f'<code>curl -H "Authorization: Bearer {deepseek}" https://api.deepseek.com/v1/models</code>',
            f"<code>DEEPSEEK_API_KEY={deepseek_alnum}  # DeepSeek</code>",
            f"<code>deepseek:\n  api_key: {deepseek_alnum}</code>".replace("\n", " "),
        ],
    )

    findings = scan_secrets(site_dir)

    assert [(f.line, f.context["kind"]) for f in findings] == [
        (1, "Anthropic API key"),
        (2, "DeepSeek API key"),
        (3, "DeepSeek API key"),
        (4, "DeepSeek API key"),
    ]


def test_a_private_key_is_found_with_its_body_on_the_next_lines(tmp_path):
    body = [base64.b64encode(random.Random(SEED + 5).randbytes(48)).decode() for _ in range(3)]
    header = "-" * 5 + "BEGIN RSA PRIVATE KEY" + "-" * 5
    site_dir = tmp_path / "site"
    _write(
        site_dir,
        "index.html",
        ["<pre><code>", header, *body, "-" * 5 + "END RSA PRIVATE KEY" + "-" * 5, "</code></pre>"],
    )
    _write(site_dir, "empty/index.html", ["<pre><code>", header, "...", "</code></pre>"])

    findings = scan_secrets(site_dir)

    assert [(f.file, f.line, f.context["kind"]) for f in findings] == [("site/index.html", 2, "Private Key")]


# --- Every file is read, or the scan says it could not be.


def test_a_file_with_a_nul_byte_is_still_scanned(tmp_path, corpus):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    key = corpus["OpenAI project key"][0]
    (site_dir / "index.html").write_bytes(b"<p>\0</p>\n<code>" + key.encode() + b"</code>\n")
    (site_dir / "notes").write_bytes(b"written\0by a tool\n" + key.encode())
    (site_dir / "utf16.txt").write_bytes(f"OPENAI_API_KEY={key}\n".encode("utf-16"))

    findings = scan_secrets(site_dir)

    assert [(f.file, f.context["kind"]) for f in findings] == [
        ("site/index.html", "OpenAI project key"),
        ("site/notes", "OpenAI project key"),
        ("site/utf16.txt", "OpenAI project key"),
    ]


def _png(*chunks: tuple[bytes, bytes]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\0\0"))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunk(k, b) for k, b in chunks) + pixels + chunk(b"IEND", b"")


def test_the_text_chunks_of_an_image_are_scanned(tmp_path, corpus):
    site_dir = tmp_path / "site" / "assets" / "images"
    site_dir.mkdir(parents=True)
    keys = corpus["Google API key"][:3]
    (site_dir / "text.png").write_bytes(_png((b"tEXt", b"Comment\0key " + keys[0].encode())))
    (site_dir / "compressed.png").write_bytes(_png((b"zTXt", b"Comment\0\0" + zlib.compress(keys[1].encode()))))
    itxt = b"Description\0\1\0en\0\0" + zlib.compress(f"GEMINI_API_KEY={keys[2]}".encode())
    (site_dir / "international.png").write_bytes(_png((b"iTXt", itxt)))
    (site_dir / "clean.png").write_bytes(_png((b"tEXt", b"Software\0Inkscape")))

    findings = scan_secrets(tmp_path / "site", display_root=tmp_path)

    assert sorted((f.file, f.context["kind"]) for f in findings) == [
        ("site/assets/images/compressed.png", "Google API key"),
        ("site/assets/images/international.png", "Google API key"),
        ("site/assets/images/text.png", "Google API key"),
    ]


def test_a_directory_that_cannot_be_listed_is_an_error_never_a_pass(tmp_path, monkeypatch, corpus):
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", [f"<p>{corpus['DeepSeek API key'][0]}</p>"])
    _write(site_dir, "private/index.html", ["<p>nothing here, but who can tell</p>"])
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(site_files_module.os, "scandir", scandir)

    with pytest.raises(Unreadable) as caught:
        scan_secrets(site_dir)

    assert sorted((f.reason, f.file) for f in caught.value.findings) == [
        ("secret", "site/index.html"),
        ("unreadable", "site/private"),
    ]
    assert "Permission denied" in str(caught.value)


def test_the_command_exits_2_on_a_directory_that_cannot_be_listed(tmp_path, monkeypatch, capsys):
    site_dir = tmp_path / "site"
    _write(site_dir, "private/index.html", ["<p></p>"])
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(site_files_module.os, "scandir", scandir)
    monkeypatch.setenv("RUNBOOKS_CACHE_DIR", str(tmp_path / "cache"))

    assert cli.main(["scan-secrets", str(site_dir)]) == 2
    assert "private" in capsys.readouterr().err


# Root reads a directory of mode 000 through two capabilities; without them the mode holds for root too.
WITHOUT_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_directory_of_mode_000_is_an_error(tmp_path):
    site_dir = tmp_path / "site"
    _write(site_dir, "private/index.html", ["<p></p>"])
    (site_dir / "private").chmod(0)
    prefix = WITHOUT_DAC if os.geteuid() == 0 else []
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "runbooks", "scan-secrets", str(site_dir), "--format", "json"],
            cwd=ROOT,
            env={**os.environ, "RUNBOOKS_CACHE_DIR": str(tmp_path / "cache")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        (site_dir / "private").chmod(0o755)
    assert result.returncode == 2, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [(f["reason"], f["file"]) for f in report["findings"]] == [("unreadable", str(site_dir / "private"))]


def test_a_symlink_that_leaves_the_site_is_reported_not_followed(tmp_path, env_values):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keys.txt").write_text(f"OPENAI_API_KEY={env_values.openai}\n", encoding="utf-8")
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", ["<p>home</p>"])
    (site_dir / "leak.txt").symlink_to(outside / "keys.txt")
    (site_dir / "shared").symlink_to(outside, target_is_directory=True)
    (site_dir / "home.html").symlink_to(site_dir / "index.html")  # inside the site: read where it is

    findings = scan_secrets(site_dir)

    assert [(f.reason, f.file) for f in findings] == [
        ("outside_link", "site/leak.txt"),
        ("outside_link", "site/shared"),
    ]
    assert all("not followed" in f.message for f in findings)


def test_a_dangling_symlink_and_a_fifo_are_unreadable(tmp_path):
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", ["<p>home</p>"])
    (site_dir / "gone.html").symlink_to(site_dir / "missing.html")
    os.mkfifo(site_dir / "pipe")  # reading it would block the scan forever

    with pytest.raises(Unreadable) as caught:
        scan_secrets(site_dir)

    assert [(f.reason, f.file) for f in caught.value.findings] == [
        ("unreadable", "site/gone.html"),
        ("unreadable", "site/pipe"),
    ]


def test_a_gz_bomb_is_an_error_naming_the_file(tmp_path, corpus):
    site_dir = tmp_path / "site"
    _write(site_dir, "index.html", [f"<p>{corpus['DeepSeek API key'][0]}</p>"])
    # 80 MiB of zeros, 80 KiB compressed: more than the scan expands (64 MiB).
    (site_dir / "sitemap.xml.gz").write_bytes(gzip.compress(bytes(80 * 2**20), compresslevel=9))

    with pytest.raises(Unreadable) as caught:
        scan_secrets(site_dir)

    assert sorted((f.reason, f.file) for f in caught.value.findings) == [
        ("secret", "site/index.html"),
        ("unreadable", "site/sitemap.xml.gz"),
    ]
    assert "decompression bomb" in str(caught.value)


def test_a_gz_within_the_cap_is_read_whole(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr(site_files_module, "MAX_TEXT_BYTES", 2**20)
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    key = corpus["Google API key"][0]
    (site_dir / "a.txt.gz").write_bytes(gzip.compress(b"x\n" * 400_000 + key.encode()))
    (site_dir / "b.txt.gz").write_bytes(gzip.compress(b"x\n" * 600_000 + key.encode()))

    with pytest.raises(Unreadable) as caught:
        scan_secrets(site_dir)

    assert sorted((f.reason, f.file) for f in caught.value.findings) == [
        ("secret", "site/a.txt.gz"),
        ("unreadable", "site/b.txt.gz"),
    ]
