"""The secrets gate: no API key, token or value of the server's env file is published in the built site."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from importlib import metadata
from itertools import pairwise
from pathlib import Path
from re import _constants as _sre_constants
from re import _parser as _sre_parser
from urllib.parse import urlsplit

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector

from runbooks.checks.memory import CleanFiles, digest, gate_key
from runbooks.checks.site_files import reader_texts, site_files, site_text
from runbooks.findings import Finding, Unreadable, display_path

# Characters a key may be made of; a shape only counts when it is not part of a longer such run,
# so `mask-image` or a slug never yields `sk-…`.
_KEY_RUN = "A-Za-z0-9_-"


def _shape(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<![{_KEY_RUN}]){pattern}(?![{_KEY_RUN}])", flags)


# OpenAI writes base64("OpenAI") into the middle of its keys.
_OPENAI_MARKER = base64.b64encode(b"OpenAI").decode()


def _detector(secret_type: str, pattern: re.Pattern[str]) -> RegexBasedDetector:
    """A detect-secrets plugin that reports `pattern` as `secret_type`."""
    name = secret_type.title().replace(" ", "").replace("-", "") + "Detector"
    plugin = type(name, (RegexBasedDetector,), {"secret_type": secret_type, "denylist": (pattern,)})
    return plugin()


# The key shapes of the documented providers and of LiteLLM, by the name a finding gives them.
_ANTHROPIC_ADMIN = _detector("Anthropic admin key", _shape(r"sk-ant-admin\d{2}-[A-Za-z0-9_-]{20,}"))
# API keys (`sk-ant-api` and a two-digit version) and the OAuth tokens of the same family.
_ANTHROPIC_API = _detector("Anthropic API key", _shape(r"sk-ant-(?:api|oat|ort)\d{2}-[A-Za-z0-9_-]{20,}"))
_OPENAI_PROJECT = _detector("OpenAI project key", _shape(r"sk-proj-[A-Za-z0-9_-]{20,}"))
_OPENAI_SERVICE_ACCOUNT = _detector("OpenAI service-account key", _shape(r"sk-svcacct-[A-Za-z0-9_-]{20,}"))
_OPENAI_ADMIN = _detector("OpenAI admin key", _shape(r"sk-admin-[A-Za-z0-9_-]{20,}"))
# User keys from before projects: `sk-` and 48 letters or digits.
_OPENAI_LEGACY = _detector("OpenAI legacy key", _shape(r"sk-[A-Za-z0-9]{48}"))
# The body of an OpenAI key whose `sk-…` prefix was cut off, found by its marker.
_OPENAI_BODY = _detector(
    "OpenAI key", _shape(rf"[A-Za-z0-9_-]*[A-Za-z0-9]{{20}}{_OPENAI_MARKER}[A-Za-z0-9]{{20}}[A-Za-z0-9_-]*")
)
_DEEPSEEK = _detector("DeepSeek API key", _shape(r"sk-[0-9a-f]{32}"))
# Google API keys, which Gemini uses: `AIza` and 35 more characters.
_GOOGLE = _detector("Google API key", _shape(r"AIza[0-9A-Za-z_-]{35}"))
# Zhipu / Z.AI keys: a 32-hex id, a dot, and a 16-character secret.
_ZHIPU = _detector("Zhipu API key", _shape(r"[0-9a-f]{32}\.[A-Za-z0-9]{16}"))
# PEM blocks of any algorithm, including the encrypted ones detect-secrets does not list.
_PRIVATE_KEY_BLOCK = _detector(
    PrivateKeyDetector.secret_type, re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
)
# Tokens sent in an HTTP header, as in a `curl -H` line: `Authorization: Bearer …`, `x-api-key: …`.
_HEADER_TOKEN = _detector(
    "Token in an HTTP header",
    re.compile(
        r"\b(?:authorization\s*:\s*bearer|x-api-key\s*:|x-goog-api-key\s*:)\s*"
        r"([A-Za-z0-9][A-Za-z0-9._~+/=-]{11,})",
        re.IGNORECASE,
    ),
)
# LiteLLM master and virtual keys (`sk-` and at least 20 key characters), and any other `sk-` key.
_LITELLM = _detector("LiteLLM key", _shape(r"sk-[A-Za-z0-9_-]{20,}"))


# Most specific first: where two detectors match the same text, the first one names it.
# detect-secrets' KeywordDetector, high-entropy and public-IP plugins are left out: measured on doc-style lines they
# report `"api_key": "YOUR_API_KEY"`, `sk-xxxx`, theme identifiers (`secret="__md_scope"`), subresource-integrity
# hashes and addresses in the theme's source maps, while the shapes here and the env-file values find real leaks.
DETECTORS: tuple[BasePlugin, ...] = (
    _ANTHROPIC_ADMIN,
    _ANTHROPIC_API,
    _OPENAI_PROJECT,
    _OPENAI_SERVICE_ACCOUNT,
    _OPENAI_ADMIN,
    _OPENAI_LEGACY,
    OpenAIDetector(),
    _DEEPSEEK,
    _GOOGLE,
    _ZHIPU,
    JwtTokenDetector(),
    PrivateKeyDetector(),
    _PRIVATE_KEY_BLOCK,
    AWSKeyDetector(),
    GitHubTokenDetector(),
    GitLabTokenDetector(),
    SlackDetector(),
    StripeDetector(),
    _OPENAI_BODY,
    _LITELLM,
    _HEADER_TOKEN,
)


def _required_literal(pattern: re.Pattern[str]) -> str:
    """The longest run of plain characters that every match of `pattern` contains, or "" if none is certain."""
    if pattern.flags & re.IGNORECASE:
        return ""
    try:
        items = list(_sre_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # the parser is CPython's own; if it ever changes, the pattern just runs on every line
        return ""
    best = run = ""
    for opcode, argument in items:  # the top-level sequence: each item is part of every match, in order
        run = run + chr(argument) if opcode == _sre_constants.LITERAL else ""
        best = max(best, run, key=len)
    return best


@dataclass(frozen=True)
class _Prefilter:
    """A detector with its patterns, each with a substring that every match contains, to skip it cheaply."""

    detector: BasePlugin
    patterns: tuple[tuple[str, re.Pattern[str]], ...] | None

    def may_match(self, text: str) -> bool:
        """False only if no pattern of the detector can match `text`, so the detector would find nothing."""
        if self.patterns is None:
            return True
        return any((not literal or literal in text) and pattern.search(text) for literal, pattern in self.patterns)


def _prefilter(detector: BasePlugin) -> _Prefilter:
    # Every detector here finds secrets only through the regular expressions of its `denylist`; one that
    # does not have one is run on every line.
    patterns = getattr(detector, "denylist", None)
    if patterns is None:
        return _Prefilter(detector, None)
    return _Prefilter(detector, tuple((_required_literal(p), p) for p in patterns))


_PREFILTERS = tuple(_prefilter(detector) for detector in DETECTORS)

# What a runbook writes instead of a key: `sk-...`, `sk-xxxx`, `<KEY>`, `${VAR}`, `$VAR`, `os.environ/VAR`.
_PLACEHOLDER_MARK = re.compile(r"\.\.\.|…|xxxx|\*\*\*|[<>{}$%]|os\.environ", re.IGNORECASE)
_PLACEHOLDER_WORD = re.compile(
    r"(?:^|[-_./ ])(?:your|my|example|placeholder|redacted|changeme|dummy|here)(?:[-_./ ]|$)", re.IGNORECASE
)
# The whole value is a reference to something else: `${VAR}`, `$VAR`, `<your key>`, `{{ key }}`, `os.environ/VAR`.
_REFERENCE = re.compile(r"\$\{?\w+\}?|<[^<>]+>|\{\{?[^{}]+\}\}?|os\.environ/\w+")
# A variable's name (`YOUR_API_KEY`, `LITELLM_MASTER_KEY`) where its value would go.
_VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
# Words joined by dashes or underscores (`sk-this-is-not-a-real-key`), never random enough to be a key.
_WORDS = re.compile(r"(?:sk-)?[a-z]+(?:[-_.][a-z]+)*")
_MIN_DISTINCT = 8
_MAX_ASCENDING = 5


def _is_placeholder(value: str) -> bool:
    """Whether a key-shaped string is an illustration rather than a key."""
    if _PLACEHOLDER_MARK.search(value) or _PLACEHOLDER_WORD.search(value):
        return True
    if _VARIABLE_NAME.fullmatch(value) or _WORDS.fullmatch(value):
        return True
    alnum = [c for c in value if c.isascii() and c.isalnum()]
    if len(set(alnum)) < _MIN_DISTINCT:
        return True
    # `1234567890abcdef…` is typed by a person; a generated key has no long ascending run.
    run = 1
    for before, after in pairwise(alnum):
        run = run + 1 if ord(after) == ord(before) + 1 else 1
        if run > _MAX_ASCENDING:
            return True
    return False


_MIN_ENV_VALUE = 8
_DOTENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)")
_DOUBLE_QUOTED_ESCAPE = re.compile(r"\\(.)")
_DOUBLE_QUOTED_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def read_env_file(env_file: Path) -> dict[str, str]:
    """The variables of a dotenv file whose values are worth guarding: set, 8+ characters, not placeholders.

    Raises Unreadable when the file cannot be read.
    """
    try:
        text = env_file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot be read: {exc.strerror or exc}"
        raise Unreadable([Finding(reason="unreadable", message=f"env file {reason}", file=str(env_file))]) from None
    values: dict[str, str] = {}
    for line in text.splitlines():
        parsed = _DOTENV_LINE.fullmatch(line)
        if not parsed or line.lstrip().startswith("#"):
            continue
        name, value = parsed.group(1), _dotenv_value(parsed.group(2))
        if _is_guarded_value(value):
            values[name] = value
    return values


def _dotenv_value(raw: str) -> str:
    raw = raw.strip()
    if raw[:1] == "'":
        end = raw.find("'", 1)
        return raw[1:end] if end > 0 else raw[1:]
    if raw[:1] == '"':
        end = 1
        while end < len(raw) and raw[end] != '"':
            end += 2 if raw[end] == "\\" else 1
        return _DOUBLE_QUOTED_ESCAPE.sub(lambda m: _DOUBLE_QUOTED_ESCAPES.get(m[1], m[1]), raw[1:end])
    # Unquoted, a `#` after whitespace starts a comment.
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def _is_guarded_value(value: str) -> bool:
    if len(value) < _MIN_ENV_VALUE or len(set(value)) == 1:
        return False
    if _REFERENCE.fullmatch(value) or _VARIABLE_NAME.fullmatch(value):
        return False
    if "..." in value or "…" in value or "xxxx" in value.lower() or _PLACEHOLDER_WORD.search(value):
        return False
    # A plain address (`https://api.openai.com/v1`) is meant to be shown; one with a password is not.
    parts = urlsplit(value)
    return not (parts.scheme in {"http", "https"} and parts.netloc and parts.password is None)


def _mask(value: str) -> str:
    shown = min(4, len(value) // 4)
    return f"{value[:shown]}… ({len(value)} characters)"


@dataclass
class _Hit:
    reason: str
    name: str
    value: str


def _line_hits(line: str, env_values: dict[str, str]) -> list[_Hit]:
    hits: list[_Hit] = []

    def covered(value: str) -> bool:
        return any(value in hit.value or hit.value in value for hit in hits)

    readings = reader_texts(line)
    for name, value in env_values.items():
        if any(value in reading for reading in readings):
            hits.append(_Hit("env_value", name, value))
    # A detector is a Python call per pattern and line; most lines cannot match any, which is cheaper to see first.
    for prefilter in _PREFILTERS:
        detector = prefilter.detector
        for reading in readings:
            if not prefilter.may_match(reading):
                continue
            for value in detector.analyze_string(reading):
                if not _is_placeholder(value) and not covered(value):
                    hits.append(_Hit("secret", detector.secret_type, value))
    return hits


def scan_secrets(site_dir: Path, env_file: Path | None = None, *, display_root: Path | None = None) -> list[Finding]:
    """Find keys, tokens and the values of `env_file` anywhere in the built site, text files and gzipped ones.

    Findings name the kind of secret (`context["kind"]`) or the variable (`context["variable"]`) and show at most
    the first four characters and the length of what was found. File names are relative to `display_root`
    (default: the site directory's parent). Raises Unreadable when the site or the env file cannot be read;
    if single site files cannot be read, the Unreadable carries their findings and every finding of the others.
    """
    root = display_root if display_root is not None else site_dir.parent

    def shown(path: Path) -> str:
        return display_path(path, root)

    if not site_dir.is_dir():
        reason = "is not a directory" if site_dir.exists() else "not found"
        raise Unreadable([Finding(reason="unreadable", message=f"site directory {reason}", file=shown(site_dir))])
    env_values = read_env_file(env_file) if env_file is not None else {}

    findings: list[Finding] = []
    unreadable: list[Finding] = []
    # Most lines of a site are the theme's markup, repeated on every page: each distinct line is checked once.
    checked: dict[str, list[_Hit]] = {}
    # Most files are the theme's assets or pages unchanged since the last build: a file found clean is not read again.
    clean = CleanFiles("scan-secrets", _gate_key(env_values))
    for path in site_files(site_dir):
        try:
            data = path.read_bytes()
            known = digest(data)
            if known in clean:
                continue
            text = site_text(path, data)
        except OSError as exc:
            message = f"cannot be read: {exc.strerror or exc}"
            unreadable.append(Finding(reason="unreadable", message=message, file=shown(path)))
            continue
        found = len(findings)
        for number, line in enumerate(text.split("\n") if text is not None else (), start=1):
            hits = checked.get(line)
            if hits is None:
                hits = checked[line] = _line_hits(line, env_values)
            for hit in hits:
                findings.append(_finding(hit, shown(path), number, env_file))
        if len(findings) == found:
            clean.add(known)
    clean.save()
    if unreadable:
        raise Unreadable(unreadable + findings)
    return findings


def _gate_key(env_values: dict[str, str]) -> str:
    """What the scan's verdicts depend on: its code, detect-secrets' version, the env file's values."""
    values = digest("\0".join(sorted(f"{k}={v}" for k, v in env_values.items())).encode("utf-8"))
    here = Path(__file__).resolve().parent
    version = metadata.version("detect-secrets")
    return gate_key(here / "secrets.py", here / "site_files.py", extra=f"detect-secrets {version} {values}")


def _finding(hit: _Hit, file: str, line: int, env_file: Path | None) -> Finding:
    if hit.reason == "env_value":
        source = env_file.name if env_file is not None else "the env file"
        message = (
            f"the value of {hit.name} from {source} ({_mask(hit.value)}) is published here; "
            "remove it from the source and rotate it"
        )
        return Finding(reason="env_value", message=message, file=file, line=line, context={"variable": hit.name})
    message = f"{hit.name} ({_mask(hit.value)}) is published here; remove it from the source and rotate it"
    return Finding(reason="secret", message=message, file=file, line=line, context={"kind": hit.name})
