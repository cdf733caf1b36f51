"""The secrets gate: no API key, token, password or value of the server's env file is published in the built site."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from re import _constants as _sre_constants
from re import _parser as _sre_parser
from typing import Any
from urllib.parse import urlsplit

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector

from runbooks.checks.secret_filters import REFERENCE, VARIABLE_NAME, is_marked, is_masked, is_placeholder
from runbooks.checks.secret_rules import (
    NAMED_KINDS,
    PEM_HEADER,
    PRIVATE_KEY,
    element_secrets,
    find_in_context,
    opens_element,
    pem_body,
)
from runbooks.checks.site_files import (
    SiteProblem,
    attribute_texts,
    read_site_file,
    reader_texts,
    site_files,
    site_text,
)
from runbooks.findings import Finding, Unreadable, display_path
from runbooks.memory import CleanFiles, digest, gate_key

# Characters a key may be made of; a shape only counts when it is not part of a longer such run,
# so `mask-image` or a slug never yields `sk-…`.
_KEY_RUN = "A-Za-z0-9_-"


def _shape(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<![{_KEY_RUN}]){pattern}(?![{_KEY_RUN}])", flags)


# OpenAI writes base64("OpenAI") into the middle of its keys.
_OPENAI_MARKER = base64.b64encode(b"OpenAI").decode()


@dataclass(frozen=True)
class _Shape:
    """A key shape: its kind, its pattern, and the stricter pattern of a provider's whole format, if it has one."""

    kind: str
    pattern: re.Pattern[str]
    exact: re.Pattern[str] | None = None
    """A value matching this whole is a key even if typed by a person (see secret_filters.is_placeholder)."""
    check: Callable[[str], bool] | None = None
    literals: tuple[str, ...] = ()
    """Strings one of which every match contains (lowercase ones in any case): see _SHAPE_TRIGGER."""

    def find(self, reading: str) -> Iterator[tuple[str, int, int]]:
        """Each (value, start, end) of the shape in one reading of a line."""
        for match in self.pattern.finditer(reading):
            group = next((g for g in range(1, (match.re.groups or 0) + 1) if match[g]), 0)
            value = match[group]
            if self.check is None or self.check(value):
                yield value, match.start(group), match.end(group)

    def is_exact(self, value: str) -> bool:
        """Whether `value` has the provider's whole format."""
        return self.exact is not None and self.exact.fullmatch(value) is not None


def _from_plugin(plugin: RegexBasedDetector, *literals: str, **extra: Any) -> list[_Shape]:
    return [
        _Shape(plugin.secret_type, pattern, literals=literals or (_required_literal(pattern),), **extra)
        for pattern in plugin.denylist
    ]


_MARKED = re.compile(rf"[A-Za-z0-9_-]*{_OPENAI_MARKER}[A-Za-z0-9_-]*")
_ANTHROPIC_EXACT = re.compile(r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA")
# DeepSeek keys are `sk-` and 32 lowercase hex digits; a key of 32 lowercase letters and digits written
# next to the word DeepSeek is one too.
_DEEPSEEK_NEAR = re.compile(
    r"deepseek.{0,60}?(?<![A-Za-z0-9_-])((?-i:sk-[a-z0-9]{32}))(?![A-Za-z0-9_-])", re.IGNORECASE
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


def _shaped(kind: str, pattern: str, *literals: str, exact: re.Pattern[str] | None = None) -> _Shape:
    compiled = _shape(pattern)
    return _Shape(kind, compiled, exact, literals=literals or (_required_literal(compiled),))


_HEX_DOT = "<hex>."
# The prefixes of GitLab's tokens, as detect-secrets' patterns list them.
_GITLAB = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-", "GR1348")

# The key shapes of the documented providers and of LiteLLM, by the name a finding gives them.
# Most specific first: where two shapes match the same text, the first one names it.
SHAPES: tuple[_Shape, ...] = (
    _shaped("Anthropic admin key", r"sk-ant-admin\d{2}-[A-Za-z0-9_-]{20,}", exact=_ANTHROPIC_EXACT),
    # API keys (`sk-ant-api` and a two-digit version) and the OAuth tokens of the same family.
    _shaped("Anthropic API key", r"sk-ant-(?:api|oat|ort)\d{2}-[A-Za-z0-9_-]{20,}", exact=_ANTHROPIC_EXACT),
    _shaped("OpenAI project key", r"sk-proj-[A-Za-z0-9_-]{20,}", exact=_MARKED),
    _shaped("OpenAI service-account key", r"sk-svcacct-[A-Za-z0-9_-]{20,}", exact=_MARKED),
    _shaped("OpenAI admin key", r"sk-admin-[A-Za-z0-9_-]{20,}", exact=_MARKED),
    # User keys from before projects: `sk-` and 48 letters or digits.
    _shaped("OpenAI legacy key", r"sk-[A-Za-z0-9]{48}", exact=_MARKED),
    # Any other key with OpenAI's marker, also the body of one whose `sk-…` prefix was cut off.
    _shaped("OpenAI key", rf"[A-Za-z0-9_-]*[A-Za-z0-9]{{10}}{_OPENAI_MARKER}[A-Za-z0-9_-]{{10,}}", exact=_MARKED),
    _shaped("DeepSeek API key", r"sk-[0-9a-f]{32}"),
    _Shape("DeepSeek API key", _DEEPSEEK_NEAR, literals=("deepseek",)),
    # Google API keys, which Gemini uses: `AIza` and 35 more characters, and the newer `AQ.` keys.
    _shaped("Google API key", r"AIza[0-9A-Za-z_-]{35}"),
    _shaped("Google API key", r"AQ\.[A-Za-z0-9_-]{30,}"),
    # Zhipu / Z.AI keys: a 32-hex id, a dot, and a 16-character secret.
    _shaped("Zhipu API key", r"[0-9a-f]{32}\.[A-Za-z0-9]{16}", _HEX_DOT),
    *_from_plugin(JwtTokenDetector(), check=JwtTokenDetector.is_formally_valid, exact=re.compile(r".*")),
    # AWS access key ids, a whole word as gitleaks reads them (detect-secrets' pattern also matches inside words);
    # detect-secrets' secret-key pattern (40 characters in quotes after `aws…key`).
    _shaped(
        "AWS Access Key", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}", "A3T", "ABIA", "ACCA", "AKIA", "ASIA"
    ),
    *_from_plugin(AWSKeyDetector(), "aws")[1:],
    *_from_plugin(GitHubTokenDetector(), "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    *_from_plugin(GitLabTokenDetector(), *_GITLAB),
    # Slack's tokens; its webhook URLs are a rule of secret_rules, which also reads workflow and trigger URLs.
    *_from_plugin(SlackDetector(), "xox")[:1],
    *_from_plugin(StripeDetector()),
    # LiteLLM master and virtual keys (`sk-` and at least 20 key characters), and any other `sk-` key.
    _shaped("LiteLLM key", r"sk-[A-Za-z0-9_-]{20,}"),
)
_LOWER_LITERALS = ("aws", "deepseek", "xox")
# Where any shape may match, in one pass over a reading, one over its lowercase form and one for Zhipu's keys
# (a dot after 32 hex digits): the literals that every match of some shape contains.
_SHAPE_TRIGGER = re.compile(
    "|".join(
        sorted(
            {re.escape(lit) for shape in SHAPES for lit in shape.literals if lit not in (*_LOWER_LITERALS, _HEX_DOT)},
            key=len,
            reverse=True,
        )
    )
)
_LOWER_TRIGGER = re.compile("|".join(re.escape(lit) for lit in _LOWER_LITERALS))
_HEX_DOT_TRIGGER = re.compile(r"\.(?<=[0-9a-f]{32}\.)[A-Za-z0-9]{16}")
_SHAPES_BY_LITERAL: dict[str, list[int]] = {}
for _index, _each in enumerate(SHAPES):
    for _literal in _each.literals:
        _SHAPES_BY_LITERAL.setdefault(_literal, []).append(_index)


def _shapes_in(reading: str, lowered: str) -> list[_Shape]:
    """The shapes that may match somewhere in `reading`, in the order of SHAPES."""
    keys = set(_SHAPE_TRIGGER.findall(reading))
    keys.update(_LOWER_TRIGGER.findall(lowered))
    if "." in reading and _HEX_DOT_TRIGGER.search(reading):
        keys.add(_HEX_DOT)
    if not keys:
        return []
    indices = {index for key in keys for index in _SHAPES_BY_LITERAL.get(key, ())}
    return [SHAPES[index] for index in sorted(indices)]


# detect-secrets' KeywordDetector, high-entropy and public-IP plugins are left out: measured on doc-style lines they
# report `"api_key": "YOUR_API_KEY"`, `sk-xxxx`, theme identifiers (`secret="__md_scope"`), subresource-integrity
# hashes and addresses in the theme's source maps; the shapes here, the rules of secret_rules (each value checked
# by secret_filters) and the env-file values find real leaks.

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


_ENV_PLACEHOLDER = re.compile(
    r"\.\.\.|…|xxxx|(?:^|[-_./ ])(?:your|my|example|placeholder|redacted|changeme|dummy|here)"
    r"(?:[-_./ ]|$)",
    re.IGNORECASE,
)


def _is_guarded_value(value: str) -> bool:
    if len(value) < _MIN_ENV_VALUE or len(set(value)) == 1:
        return False
    if REFERENCE.fullmatch(value) or VARIABLE_NAME.fullmatch(value) or _ENV_PLACEHOLDER.search(value):
        return False
    # A plain address (`https://api.openai.com/v1`) is meant to be shown; one with a password is not.
    parts = urlsplit(value)
    return not (parts.scheme in {"http", "https"} and parts.netloc and parts.password is None)


def _mask(value: str) -> str:
    shown = min(4, len(value) // 4)
    return f"{value[:shown]}… ({len(value)} characters)"


@dataclass(frozen=True)
class SecretHit:
    """One secret found in a text: why (`secret` or `env_value`), its kind or variable, the value, its line."""

    reason: str
    name: str
    value: str
    line: int = 0


@dataclass(frozen=True)
class _LineScan:
    hits: tuple[SecretHit, ...]
    pem_open: bool
    """The line ends with a private key's PEM header: whether a key follows is told by the next lines."""
    element_open: bool = False
    """The line is the start tag of a secret-named element (`<apiToken>`): its value is on the next line."""


def _line_scan(line: str, env_values: dict[str, str]) -> _LineScan:
    hits: list[SecretHit] = []

    def covered(value: str) -> bool:
        return any(value in hit.value or hit.value in value for hit in hits)

    def add(kind: str, value: str) -> None:
        if not covered(value):
            hits.append(SecretHit("secret", kind, value))

    readings = reader_texts(line)
    for name, value in env_values.items():
        if any(value in reading for reading in readings):
            hits.append(SecretHit("env_value", name, value))
    pem_open = False
    by_context: list[tuple[str, str]] = []
    lowered_readings = [_lower(reading) for reading in readings]
    # Where markup was removed, the rules read the text without it, and of the markup only its attribute values.
    in_context = list(zip(readings, lowered_readings, strict=True))
    if len(readings) > 1 and readings[1] != readings[0]:
        attributes = attribute_texts(line)
        in_context[0] = (attributes, _lower(attributes))
    for reading, lowered in in_context:
        for kind, value, start, end in find_in_context(reading, lowered):
            if not is_masked(reading, start, end):
                if kind in NAMED_KINDS:  # LiteLLM's own variables are named by the variable, whatever the value
                    add(kind, value)
                else:
                    by_context.append((kind, value))
    for reading, lowered in zip(readings, lowered_readings, strict=True):
        for shape in _shapes_in(reading, lowered):
            for value, start, end in shape.find(reading):
                if not is_masked(reading, start, end) and not is_placeholder(value, exact=shape.is_exact(value)):
                    add(shape.kind, value)
        if "-----BEGIN" in reading:
            for header in PEM_HEADER.finditer(reading):
                after = reading[header.end() :]
                body = pem_body(after)
                if body is not None and not is_marked(body[:40]):
                    add(PRIVATE_KEY, body)
                elif not after.strip():
                    pem_open = True
    # A key shape names a value better than where it was found: `Authorization: Bearer sk-ant-…` is Anthropic's.
    for kind, value in by_context:
        add(kind, value)
    return _LineScan(tuple(hits), pem_open, opens_element(readings[-1]))


def _lower(reading: str) -> str:
    lowered = reading.lower()
    if len(lowered) == len(reading):
        return lowered
    # A few characters lowercase to two: then only ASCII is lowered, so that positions stay the same.
    return "".join(c.lower() if c.isascii() else c for c in reading)


def _bare(line: str) -> str:
    return reader_texts(line)[-1]


class _TextScanner:
    """Finds the secrets of texts line by line; each distinct line is checked once for all the texts it scans."""

    def __init__(self, env_values: dict[str, str]) -> None:
        self._env_values = env_values
        self._checked: dict[str, _LineScan] = {}

    def _scan(self, line: str) -> _LineScan:
        scan = self._checked.get(line)
        if scan is None:
            scan = self._checked[line] = _line_scan(line, self._env_values)
        return scan

    def hits(self, text: str) -> list[SecretHit]:
        """Every secret of `text`, with its line number."""
        found: list[SecretHit] = []
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            scan = self._scan(line)
            found.extend(SecretHit(h.reason, h.name, h.value, number) for h in scan.hits)
            if scan.pem_open and not scan.hits:
                # A PEM header alone on its line: the key, if any, is on the lines after it.
                body = pem_body("\n".join(_bare(following) for following in lines[number : number + 4]))
                if body is not None and not is_marked(body[:40]):
                    found.append(SecretHit("secret", PRIVATE_KEY, body, number))
            if scan.element_open and number < len(lines):
                # `<apiToken>` alone on its line: the value is on the next one, the end tag after it.
                joined = " ".join(_bare(each) for each in lines[number - 1 : number + 2])
                shown = self._scan(lines[number]).hits  # a key shape on the value's own line names it already
                for kind, value, _, _ in element_secrets(joined):
                    if not any(value in hit.value or hit.value in value for hit in shown):
                        found.append(SecretHit("secret", kind, value, number + 1))
        return found


def find_secrets(text: str, env_values: dict[str, str] | None = None) -> list[SecretHit]:
    """Every secret in `text` as scan-secrets finds it in a site file, with the (unmasked) value and its line."""
    return _TextScanner(env_values or {}).hits(text)


def scan_secrets(site_dir: Path, env_file: Path | None = None, *, display_root: Path | None = None) -> list[Finding]:
    """Find keys, tokens, passwords and the values of `env_file` anywhere in the built site, in every file.

    Findings name the kind of secret (`context["kind"]`) or the variable (`context["variable"]`) and show at most
    the first four characters and the length of what was found. A symbolic link that leaves the site is a
    finding (`outside_link`): it is not followed. File names are relative to `display_root` (default: the site
    directory's parent). Raises Unreadable when the site or the env file cannot be read; if single site files or
    directories cannot be read, the Unreadable carries their findings and every finding of the others.
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
    problems: list[SiteProblem] = []
    # Most lines of a site are the theme's markup, repeated on every page: each distinct line is checked once.
    scanner = _TextScanner(env_values)
    # Most files are the theme's assets or pages unchanged since the last build: a file found clean is not read again.
    clean = CleanFiles("scan-secrets", _gate_key(env_values))
    for path in site_files(site_dir, problems):
        try:
            data = read_site_file(path)
            known = digest(data)
            if known in clean:
                continue
            text = site_text(path, data)
        except OSError as exc:
            message = f"cannot be read: {exc.strerror or exc}"
            unreadable.append(Finding(reason="unreadable", message=message, file=shown(path)))
            continue
        hits = scanner.hits(text) if text is not None else []
        findings.extend(_finding(hit, shown(path), env_file) for hit in hits)
        if not hits:
            clean.add(known)
    clean.save()
    for problem in problems:
        # Named by the path itself: a link's target is not where the problem is.
        where = f"{shown(problem.path.parent)}/{problem.path.name}"
        finding = Finding(reason=problem.reason, message=problem.message, file=where)
        (unreadable if problem.reason == "unreadable" else findings).append(finding)
    if unreadable:
        raise Unreadable(unreadable + findings)
    return findings


def _gate_key(env_values: dict[str, str]) -> str:
    """What the scan's verdicts depend on: its code, detect-secrets' version, the env file's values."""
    values = digest("\0".join(sorted(f"{k}={v}" for k, v in env_values.items())).encode("utf-8"))
    here = Path(__file__).resolve().parent
    version = metadata.version("detect-secrets")
    sources = (here / name for name in ("secrets.py", "site_files.py", "secret_filters.py", "secret_rules.py"))
    return gate_key(*sources, extra=f"detect-secrets {version} {values}")


def _finding(hit: SecretHit, file: str, env_file: Path | None) -> Finding:
    if hit.reason == "env_value":
        source = env_file.name if env_file is not None else "the env file"
        message = (
            f"the value of {hit.name} from {source} ({_mask(hit.value)}) is published here; "
            "remove it from the source and rotate it"
        )
        return Finding(reason="env_value", message=message, file=file, line=hit.line, context={"variable": hit.name})
    message = f"{hit.name} ({_mask(hit.value)}) is published here; remove it from the source and rotate it"
    return Finding(reason="secret", message=message, file=file, line=hit.line, context={"kind": hit.name})
