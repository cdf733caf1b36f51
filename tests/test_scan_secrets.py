"""The secrets gate: planted keys are found in every form a built site holds them, look-alikes are not."""

from __future__ import annotations

import base64
import gzip
import json
import random
import string
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbooks.checks.secrets import read_env_file, scan_secrets
from runbooks.findings import Finding, Unreadable

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
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "DSA ", ""])
    return "-" * 5 + "BEGIN " + kind + "PRIVATE KEY" + "-" * 5


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
