"""Secrets known by where they are written: passwords, credentials in URLs, webhooks, headers, assignments, PEM keys."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator

from runbooks.checks.secret_filters import is_marked, is_placeholder, looks_like_password, looks_random

PASSWORD = "Password"
URL_PASSWORD = "Password in a URL"
URL_TOKEN = "Token in a URL"
SLACK_WEBHOOK = "Slack webhook URL"
DISCORD_WEBHOOK = "Discord webhook URL"
TEAMS_WEBHOOK = "Microsoft Teams webhook URL"
HEADER_TOKEN = "Token in an HTTP header"
BASIC_AUTH = "Basic credentials in an HTTP header"
CURL_USER = "Password in a curl command"
ASSIGNED = "Secret assigned to a variable"
UI_PASSWORD = "LiteLLM UI password"
SALT_KEY = "LiteLLM salt key"
PRIVATE_KEY = "Private Key"

Found = tuple[str, str, int, int]
"""A secret found in a reading: its kind, its value, where the value starts and ends."""

# A value ends at whitespace, a quote, or what closes or separates it in code and prose.
_VALUE = r"""[^\s'"`<>,;)\]}，。；、（）]+"""

# Where a secret of these rules may start (`password`, `://`, `key`, `Authorization`…): one pass of each finds
# the places, only in a line that has its cheap literal, and the rule reads from there, so that a long line of
# minified code costs a few passes, not one per rule and position.
_WORD = re.compile(r"authorization|password|passwd|passwort|passcode|pwd|key|token|secret|salt|credentials?")
_URL_AT = re.compile(r"(?<=[a-z0-9])://")
_QUERY_AT = re.compile(r"[?&](?:token|access_token|api_key|apikey|key|auth|auth_token|secret|sig|password)=")
_CURL_AT = re.compile(r"(?:^|(?<=\s))(?:-u|--user)(?=[\s=\"'])")
_LABEL_AT = re.compile(r"密码|口令|密碼")
_SLACK_AT = re.compile(r"hooks\.slack\.com/")
_DISCORD_AT = re.compile(r"discord(?:app)?\.com/api/webhooks/")
_TEAMS_AT = re.compile(r"\.webhook\.office\.com/webhookb2/|\.logic\.azure\.com|\.environment\.api\.powerplatform\.com")
# What follows a name where a value is given: `=`, `:`, `:=`, `=>`, `?=`, `.=`, or `", "` after a quoted name.
# A type may stand between the name and `=` (`var apiToken string = "…"`).
_OPERATOR = re.compile(
    r"""(['"]?)(?:[ \t]+[A-Za-z_][\w.]*(?=[ \t]*=[^=>]))?[ \t]*(?:=>|::?:?=|\?=|\.=|[=:：]|(?<=['"]),)"""
)


def _unwrap(value: str) -> str:
    # `{ZqL5kVrX1n8tA2}` as some vendors' docs write a credential; `{password}` stays a placeholder by its words.
    return value[1:-1] if len(value) > 2 and value[0] == "{" and value[-1] == "}" else value


def _password(value: str) -> bool:
    return looks_like_password(_unwrap(value.strip("'\"")))


def _webhook_token(value: str) -> bool:
    last = value.rstrip("/").rsplit("/", 1)[-1]
    return len(last) >= 8 and not is_placeholder(last, exact=True)


def _group(pattern: re.Pattern[str], kind: str, accept: Callable[[str], bool]) -> Callable[[str, int], Iterator[Found]]:
    """A rule reading `pattern` at the trigger: group 1 (or the first group that matched) is the value."""

    def rule(reading: str, position: int) -> Iterator[Found]:
        match = pattern.match(reading, position)
        if match:
            group = next((g for g in range(1, pattern.groups + 1) if match[g]), 0)
            if group and accept(match[group]):
                yield kind, match[group], match.start(group), match.end(group)

    return rule


_slack = _group(
    re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/((?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+)"),
    SLACK_WEBHOOK,
    _webhook_token,
)
_discord = _group(
    re.compile(r"discord(?:app)?\.com/api/webhooks/\d{5,20}/([A-Za-z0-9_-]+)", re.IGNORECASE),
    DISCORD_WEBHOOK,
    _webhook_token,
)
_teams = _group(
    re.compile(
        r"\.webhook\.office\.com/webhookb2/\S*?/IncomingWebhook/([A-Za-z0-9]+)/|"
        r"\.(?:logic\.azure|environment\.api\.powerplatform)\.com\S*?[?&]sig=([\w%-]+)",
        re.IGNORECASE,
    ),
    TEAMS_WEBHOOK,
    _webhook_token,
)
# `scheme://user:password@host` of any scheme: postgresql, mysql, mongodb+srv, redis, rediss, amqp, https…
_url = _group(re.compile(r"://[^\s/:@'\"<>]*:([^\s/@'\"<>]+)@[\w\[]"), URL_PASSWORD, _password)
_query = _group(
    re.compile(r"[?&][a-z_]+=([A-Za-z0-9._~+/-]{12,})", re.IGNORECASE),
    URL_TOKEN,
    lambda value: looks_random(value, min_length=12),
)
_label = _group(re.compile(r"(?:密码|口令|密碼)\s*(?:是|为|為|[:=：])+\s*['\"]?(" + _VALUE + ")"), PASSWORD, _password)
_password_word = _group(
    re.compile(r"(?:password|passwd|passwort|pwd|passcode)\s*(?:is\s+)?[:=：]\s*['\"]?(" + _VALUE + ")", re.I),
    PASSWORD,
    _password,
)
_BASIC = re.compile(
    r"""authorization['"]?\s*[:=]\s*['"]?\s*basic(?:\s+|%20)([A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])""", re.I
)
# `Authorization: Bearer …` (any scheme or none), `x-api-key: …`, `X-Octopus-ApiKey: …`, `Api-Token: …`, as curl
# writes a header and as a Python or JavaScript dict does (`"Authorization": "Bearer …"`).
_HEADER_VALUE = re.compile(
    r"""['"]?\s*[:=]\s*['"]?\s*(?:(?:bearer|token|api-token|jwt|sso-key)(?:\s+|%20))?"""
    r"([\w~@.+/=-]{8,})(?![\w~@.+/=:-])",
    re.IGNORECASE,
)
_HEADER_NAME = re.compile(
    r"(?:proxy-)?authorization|x-goog-api-key|(?:x-(?:[a-z0-9]+-)*)?(?:api-?)?(?:key|token)|apikey|private-token",
    re.IGNORECASE,
)
_NAME_PART = re.compile(r"[A-Za-z0-9_.-]*\Z")
# A header given on curl's command line (`-H "Token: …"`), where any header name counts.
_HEADER_FLAG = re.compile(r"(?:-H|--header)[ =]*['\"]?[A-Za-z0-9_-]*\Z")
_CURL = re.compile(r"""(?:-u|--user)(?:=|\s*)(?:"([^"]*)"|'([^']*)'|(\S+))(?:\s|$)""")
_CURL_BEFORE = re.compile(r"\bcurl\b|^\s*\Z", re.IGNORECASE)
# `NAME_KEY=…`, `NAME_TOKEN: …`, `nameSecret = "…"`, `"NAME_PASSWORD", "…"`.
_ASSIGNED_VALUE = re.compile(rf"""\s*(?:\[\s*)?@?['"`]?({_VALUE})""")
_ELEMENT = re.compile(
    r"<([A-Za-z0-9_.-]*(?:key|token|secret|password|passwd|pwd|salt))>\s*([^\s<>]+)\s*</\1>", re.IGNORECASE
)
_ELEMENT_LITERALS = ("key>", "token>", "secret>", "password>", "passwd>", "pwd>", "salt>")
_OPEN_ELEMENT = re.compile(r"\s*<[A-Za-z0-9_.-]*(?:key|token|secret|password|passwd|pwd|salt)>\s*", re.IGNORECASE)


def opens_element(reading: str) -> bool:
    """Whether a line is only the start tag of a secret-named element, its value on the next lines."""
    return _OPEN_ELEMENT.fullmatch(reading) is not None


def element_secrets(text: str) -> Iterator[Found]:
    """The secrets of `<name_token>…</name_token>` elements in `text`, the lines of one element joined."""
    for element in _ELEMENT.finditer(text):
        if _assigned(element[1], element[2]):
            yield _KNOWN_NAMES.get(element[1].lower(), ASSIGNED), element[2], element.start(2), element.end(2)


# Names that end like a secret's but hold none: public keys, database keys, ids, settings about a secret.
_NOT_SECRET_NAME = re.compile(
    r"(?:public|publishable|pub|primary|foreign|sort|partition|cache|idempotency|hash|row|group|sequence|schema|"
    r"bucket|natural|hot|monkey|turkey|csrf|xsrf|(?:max|min)[_-]?tokens?)[_.-]?(?:key|token)s?$|"
    r"(?:key|token|secret|password)[_.-]?(?:id|name|file|path|size|length|alias|type|url|uri|endpoint|count|limit|"
    r"policy|reset|hash|ref|arn|header|env|vault|ring|code|board)$",
    re.IGNORECASE,
)
_CODE = re.compile(r"[\[(]")
_KNOWN_NAMES = {"ui_password": UI_PASSWORD, "litellm_salt_key": SALT_KEY}
NAMED_KINDS = frozenset(_KNOWN_NAMES.values())
"""Kinds named by the variable that holds them, which name a value before its shape does."""
_PASSWORD_NAME = re.compile(r"(?:password|passwd|pwd|pass)$", re.IGNORECASE)
_SECRET_END = re.compile(r"(?:key|token|secret|password|passwd|pwd|salt|credentials?)$", re.IGNORECASE)


def _name_before(reading: str, start: int, end: int) -> str:
    """The whole name whose last word is reading[start:end]: `LITELLM_SALT_KEY` for `KEY`."""
    head = _NAME_PART.search(reading, max(0, start - 60), start)
    return (head[0] if head else "") + reading[start:end]


def _assigned(name: str, value: str) -> bool:
    if not _SECRET_END.search(name) or _NOT_SECRET_NAME.search(name):
        return False
    if _PASSWORD_NAME.search(name):
        return looks_like_password(value)
    return looks_random(value, min_length=10, min_entropy=3.0)


def _basic(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    user, colon, password = decoded.partition(":")
    if not colon:  # not `user:password` in base64: an opaque credential, judged as a token
        return looks_random(value, min_length=16)
    if is_marked(decoded):
        return False
    return looks_like_password(password) or (not password and looks_random(user, min_length=10))


def _words(reading: str, start: int, end: int) -> Iterator[Found]:
    """A name ending in `key`, `token`, `password`… followed by a value: an HTTP header or an assignment."""
    word = reading[start:end].lower()
    if word == "authorization":
        basic = _BASIC.match(reading, start)
        if basic:
            if _basic(basic[1]):
                yield BASIC_AUTH, basic[1], basic.start(1), basic.end(1)
            return
    operator = _OPERATOR.match(reading, end)
    if not operator:
        return
    name = _name_before(reading, start, end)
    in_header = (
        word == "authorization" or "-" in name or name.lower() == "apikey" or _HEADER_FLAG.search(reading, 0, start)
    )
    if _HEADER_NAME.fullmatch(name) and in_header and not _NOT_SECRET_NAME.search(name):
        header = _HEADER_VALUE.match(reading, end)
        if header and looks_random(header[1], min_length=8):
            yield HEADER_TOKEN, header[1], header.start(1), header.end(1)
            return
    if name.lower() == word and word in ("password", "passwd", "passwort", "passcode", "pwd"):
        yield from _password_word(reading, start)
        return
    value = _ASSIGNED_VALUE.match(reading, operator.end())
    if value:
        text = value[1].strip("'\"`")
        # An address is read by the URL rules; `Optional[str]`, `get_key()` are code, not a value.
        if "://" not in text and not _CODE.search(text) and _assigned(name, text):
            kind = _KNOWN_NAMES.get(name.lower(), ASSIGNED)
            yield kind, text, value.start(1), value.start(1) + len(text)


def _curl(reading: str, position: int) -> Iterator[Found]:
    """`curl -u user:password`: the password is the secret, or the user when the password is empty (an API key)."""
    if not _CURL_BEFORE.search(reading, 0, position):
        return
    match = _CURL.match(reading, position)
    if not match:
        return
    group = next(g for g in (1, 2, 3) if match[g] is not None)
    credential = match[group].replace('"', "").replace("'", "") if group == 3 else match[group]
    user, colon, password = credential.partition(":")
    if not colon:
        return
    user, password = _unwrap(user), _unwrap(password)
    # `-u KEY:` with an empty password, as some APIs take their key: then the user is the secret.
    found = looks_like_password(password) and not is_marked(user) if password else looks_random(user, min_length=10)
    if found:
        value = password or user
        start = match.start(group) + max(match[group].find(value), 0)
        yield CURL_USER, value, start, start + len(value)


_URL_RULES = (
    ("hooks.slack.com/", _SLACK_AT, _slack),
    ("/api/webhooks/", _DISCORD_AT, _discord),
    ("webhookb2/", _TEAMS_AT, _teams),
    ("logic.azure.com", _TEAMS_AT, _teams),
    ("powerplatform.com", _TEAMS_AT, _teams),
)


def find_in_context(reading: str, lowered: str) -> Iterator[Found]:
    """Every secret of one reading of a line that is known by where it is written.

    `lowered` is reading.lower(), of the same length (the caller checks): triggers are found in it.
    """
    for literal, at, rule in _URL_RULES:
        if literal in lowered:
            for trigger in at.finditer(lowered):
                yield from rule(reading, trigger.start())
    for trigger in _WORD.finditer(lowered):
        yield from _words(reading, trigger.start(), trigger.end())
    if "://" in lowered:
        for trigger in _URL_AT.finditer(lowered):
            yield from _url(reading, trigger.start())
    if "=" in lowered and (
        "token=" in lowered
        or "key=" in lowered
        or "auth=" in lowered
        or "sig=" in lowered
        or "secret=" in lowered
        or "password=" in lowered
    ):
        for trigger in _QUERY_AT.finditer(lowered):
            yield from _query(reading, trigger.start())
    if "-u" in lowered:
        for trigger in _CURL_AT.finditer(lowered):
            yield from _curl(reading, trigger.start())
    if "密" in lowered or "口令" in lowered:
        for trigger in _LABEL_AT.finditer(lowered):
            yield from _label(reading, trigger.start())
    if "</" in lowered and any(literal in lowered for literal in _ELEMENT_LITERALS):
        # `<name_token>…</name_token>`, an XML element holding the value.
        yield from element_secrets(reading)


# PEM private keys: the header, then (after optional `Proc-Type:`/`DEK-Info:` lines) a base64 body.
PEM_HEADER = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_PEM_BODY = re.compile(r"\s*(?:(?:Proc-Type|DEK-Info|Version|Comment|Hash):[^\n]*\s+)*([A-Za-z0-9+/=]{40,})")
_PEM_LINE = re.compile(r"\s*([A-Za-z0-9+/=]{16,})\s*")


def pem_body(after: str) -> str | None:
    """The start of the key body following a PEM header, or None when none follows (`...`, `anything`, the END)."""
    body = _PEM_BODY.match(after)
    if body:
        return body[1]
    # A body broken into lines: the first lines of base64, whatever their length.
    parts = []
    position = 0
    while len("".join(parts)) < 40:
        line = _PEM_LINE.match(after, position)
        if not line:
            return None
        parts.append(line[1])
        position = line.end()
    return "".join(parts)
