"""What tells a secret from what documentation writes instead: placeholders, masks, words, published examples."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from collections import Counter
from itertools import pairwise

# What a runbook writes instead of a key: `sk-...`, `sk-xxxx`, `<KEY>`, `{key}`, `%s`, `%VAR%`, `os.environ/VAR`.
_PLACEHOLDER_MARK = re.compile(r"\.\.\.|…|xxxx|\*\*\*|[<>{}]|%[sd(]|%\w+%|os\.environ", re.IGNORECASE)
_PLACEHOLDER_WORD = re.compile(
    r"(?:^|[-_./ ])(?:your|my|example|placeholder|redacted|changeme|dummy|here|fake|sample)(?:[-_./ ]|$)",
    re.IGNORECASE,
)
# AWS writes EXAMPLE into its documented keys (`…EXAMPLE`, `…EXAMPLEKEY`); a value in brackets is a blank to fill.
_EXAMPLE_END = re.compile(r"EXAMPLE|^\[[^\[\]]+\]$")
# A reference to a variable: `$OPENAI_API_KEY`, `${salt}`, `$(cat key)`, `$1`; `$YYbMDot25P` (mixed case and digits)
# or `P@ssw0rd$1` is a value.
_DOLLAR_REFERENCE = re.compile(r"^['\"]?\$(?:\d|[A-Z][A-Z0-9_]*\b|[a-z][a-z0-9_]*\b)|\$[{(]")
# The whole value is a reference to something else: `${VAR}`, `$VAR`, `<your key>`, `{{ key }}`, `os.environ/VAR`.
REFERENCE = re.compile(r"\$\{?\w+\}?|<[^<>]+>|\{\{?[^{}]+\}\}?|os\.environ/\w+")
# A variable's name (`YOUR_API_KEY`, `LITELLM_MASTER_KEY`) where its value would go.
VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
# Words joined by dashes or underscores (`sk-this-is-not-a-real-key`), never random enough to be a key.
_WORDS = re.compile(r"(?:sk-)?[a-z]+(?:[-_.][a-z]+)*")
# A key's fixed prefix, left out when judging how random the rest is.
_KEY_PREFIX = re.compile(r"^(?:sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?|gsk_|xox[a-z]-|gh[pousr]_|AQ\.)")
_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_VOWELS = frozenset("aeiouy")
# Two-letter words of English and of code, as in `liteLlmIsAmazing`, `myApiKey`, `dbPassword`.
_SHORT_WORDS = re.compile(r"is|my|to|of|in|on|at|it|be|we|me|no|so|an|or|do|up|us|ok|db|id|ai|io|ui")
# The letter pairs that make up most English words (98% of those in the comments and docstrings of Python's
# standard library) and the words of this domain (proxy, litellm, deepseek…): a run of letters with more than
# one pair in four outside them is no word, however pronounceable.
_BIGRAMS = (
    "abacadafagaiakalamanaparasatauavayazbabcbebhbibjblbobpbrbsbubycacccechcickclcocrctcudadbdddedidldmdo"
    "drdsdueaebecedeeefegeiekelemeneoepeqeresetevewexeyfafefffiflfofrftfugagcgegfghgiglgngrgsguhahehihohr"
    "htiaibicidieifigikiliminioipirisitivixizjejukekikslaldlelflilllmlolplsltlulymambmemimmmompmsmunancnd"
    "nenfngninknlnnnonpnsntnunvnyoaobocodoeofogohoiokolomonooopoqorosotouovowoxpapepiplpoppprpsptpupyqura"
    "rcrdrerfrgrirkrmrnrorrrsrtrurvrwrysascseshsislsnsospssstsuswsytatctetgthtitltotptrtstttutwtyuaubucue"
    "uguiulumunupurusutvaveviwawewhwiwnwowrwsxaxcxexixpxtxyyiyoypysytzezhzizu"
)
_COMMON_BIGRAMS = frozenset(_BIGRAMS[i : i + 2] for i in range(0, len(_BIGRAMS), 2))
_MIN_DISTINCT = 8
_MAX_ASCENDING = 5
# Characters that stand for hidden ones right next to a shown part: `sk-abc****`, `gsk_mySV…`, `AKIA••••`.
_MASK_AFTER = re.compile(r"[*•●·#]|\.\.\.|…|x{4}|X{4}")
_MASK_BEFORE = re.compile(r"(?:[*•●·#]|\.\.\.|…|x{4}|X{4})$")

# Keys that vendors publish in their own SDKs as examples, and that a site may show as such: the example API keys
# of firebase-android-sdk, which gitleaks allowlists (cmd/generate/config/rules/gcp.go). Kept as blake2b digests,
# so that this file holds none of them. AWS's documented examples end with EXAMPLE and are told by that.
_PUBLISHED_EXAMPLES = frozenset(
    [
        "0ea0ab8b32944eb292912af58e01e544",
        "14bc534156aee4d377c044577f626478",
        "30f4b273f0b1ad622f9baf545b053daf",
        "37523481d842f4dd2c7ddf4427e28c69",
        "457bd76aa8889bd80e3cdf5dfa11ad89",
        "4e5fa3d61ce9b861cba7a4a4eb9a3ab5",
        "62d59497fa5e49126c308027e2c3055c",
        "654700e28406835adb831dae93238a96",
        "6f6f36ffce7fcd6e125019d0f3b82676",
        "75476ca8111d05b2ceb9750a4537597f",
        "9704b8b4b195cbbfc10b83160a8b44d8",
        "99e4bbe04f42314925115cf4f23d0f50",
        "a1dc69d3b237a42e34dd9ea48c6b83ad",
        "c885aebe5c8b09c4bb6008b0771340ad",
        "ef3798ad4e936701013460cfd0233c30",
        "f5644a9b921ee5b81c116fc887c96e44",
    ]
)


def published_example_digest(value: str) -> str:
    """The digest a published example key is recognised by."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=16).hexdigest()


def is_published_example(value: str) -> bool:
    """Whether `value` is a key a vendor publishes as an example in its SDK."""
    return published_example_digest(value) in _PUBLISHED_EXAMPLES


def entropy(value: str) -> float:
    """Shannon entropy of `value`, in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def is_word_made(value: str) -> bool:
    """Whether a value is made of words and a short number (`sk-TeamAdminKey123`, `proxy-auth-123`), as people type.

    Most of its letters are in lowercase or capitalised runs that read as words (a vowel, no four consonants in
    a row, English letter pairs; two letters only for a short word), and it has few digits; a generated key has
    short runs of unlikely letters.
    """
    body = _KEY_PREFIX.sub("", value)
    tokens = _TOKENS.findall(body)
    letters = sum(len(t) for t in tokens if not t.isdigit())
    digits = sum(len(t) for t in tokens if t.isdigit())
    if letters < 3 or digits > max(6, letters // 2):
        return False
    # Words are written in lower case or capitalised; a run of capitals (`AKIALALEMEL`) is no word.
    worded = sum(len(t) for t in tokens if not t.isupper() and t.isalpha() and _is_word(t.lower()))
    return worded >= 0.75 * letters


def _is_word(token: str) -> bool:
    if len(token) < 3:
        return _SHORT_WORDS.fullmatch(token) is not None
    rare = sum(token[i : i + 2] not in _COMMON_BIGRAMS for i in range(len(token) - 1))
    return rare <= (len(token) - 1) // 4 and _pronounceable(token)


def _pronounceable(token: str) -> bool:
    if not any(c in _VOWELS for c in token):
        return False
    run = 0
    for char in token:
        run = 0 if char in _VOWELS else run + 1
        if run >= 4:
            return False
    return True


def _has_ascending_run(value: str) -> bool:
    # `1234567890abcdef…` is typed by a person; a generated key has no long ascending run.
    alnum = [c for c in value if c.isascii() and c.isalnum()]
    run = 1
    for before, after in pairwise(alnum):
        run = run + 1 if ord(after) == ord(before) + 1 else 1
        if run > _MAX_ASCENDING:
            return True
    return False


def is_marked(value: str) -> bool:
    """Whether a value says itself that it is not a key: `...`, `xxxx`, `***`, `<…>`, `$VAR`, `your-key`, EXAMPLE."""
    if _PLACEHOLDER_MARK.search(value) or _PLACEHOLDER_WORD.search(value) or _EXAMPLE_END.search(value):
        return True
    return bool(_DOLLAR_REFERENCE.search(value)) or is_published_example(value)


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def _decoded(value: str) -> str | None:
    """The text a base64 value encodes, if it is printable ASCII (`bWVvd19pbV9hX2NhdA==` is `meow_im_a_cat`)."""
    if not _BASE64.fullmatch(value) or len(value.rstrip("=")) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(
            value.replace("+", "-").replace("/", "_").rstrip("=") + "=" * (-len(value.rstrip("=")) % 4)
        )
    except (binascii.Error, ValueError):
        return None
    if len(data) < 4 or not all(32 <= byte < 127 for byte in data):
        return None
    return data.decode("ascii")


def is_placeholder(value: str, *, exact: bool = False) -> bool:
    """Whether a key-shaped string is an illustration rather than a key.

    `exact` is for a value that matched a provider's whole format, fixed length and checksum-like marker
    included (an Anthropic key's 93 characters and `AA`, OpenAI's marker): such a value counts as a key even
    when typed by a person, unless it is marked as a placeholder or has too few distinct characters.
    """
    if is_marked(value):
        return True
    if VARIABLE_NAME.fullmatch(value) or _WORDS.fullmatch(value):
        return True
    alnum = {c for c in _KEY_PREFIX.sub("", value) if c.isascii() and c.isalnum()}
    if len(alnum) < _MIN_DISTINCT:
        return True
    if exact:
        return False
    if _has_ascending_run(value) or is_word_made(value):
        return True
    # Words or a JSON fragment in base64 (`{"typ":"` of a JWT's start) are an illustration too.
    decoded = _decoded(value)
    return decoded is not None and (
        _PLACEHOLDER_MARK.search(decoded) is not None or _WORDS.fullmatch(decoded) is not None
    )


def is_masked(text: str, start: int, end: int) -> bool:
    """Whether the match text[start:end] is the shown part of a masked value: `sk-abc****`, `••••1234`."""
    return bool(_MASK_AFTER.match(text, end)) or bool(_MASK_BEFORE.search(text, 0, start))


# A value that names a file (`bundle.6c3a2f9e.min.js`, `tls.key`) is not itself a secret.
_FILE_NAME = re.compile(
    r"\.(?:min\.)?(?:m?js|css|map|json|html?|png|jpe?g|svg|gif|webp|ico|woff2?|ttf|txt|md|xml|ya?ml|pem|crt|key|pub|sh|py)$",
    re.IGNORECASE,
)
# The parts of a value between separators: a model id or a path is made of short ones, a token has a long one.
_SEGMENT = re.compile(r"[^-./:@~\s]+")


def looks_random(value: str, *, min_length: int = 12, min_entropy: float = 3.0) -> bool:
    """Whether an opaque value (a token, a generic `NAME_SECRET=`) looks generated rather than written.

    It is long enough, not a placeholder or a file name, has a run of 10 or more characters between separators
    that mixes letters and digits or cases (a model id such as `claude-sonnet-4-5-20250929` has none), and its
    characters are varied enough (Shannon entropy in bits per character).
    """
    if len(value) < min_length or is_placeholder(value) or _FILE_NAME.search(value):
        return False
    longest = max(_SEGMENT.findall(value), key=len, default="")
    if len(longest) < min(10, min_length):
        return False
    classes = sum(any(test(c) for c in longest) for test in (str.islower, str.isupper, str.isdigit))
    # A short random string repeats characters by chance more often: the bar is lower for it.
    return classes >= 2 and entropy(value) >= min(min_entropy, 0.7 * math.log2(len(value)))


def looks_like_password(value: str) -> bool:
    """Whether a value written as a password is one rather than a placeholder (`password`, `changeme`, `$PASS`)."""
    if len(value) < 6 or is_marked(value) or VARIABLE_NAME.fullmatch(value):
        return False
    if len(set(value)) < 5 or _has_ascending_run(value) or is_word_made(value) or _WORDS.fullmatch(value):
        return False
    classes = sum(
        any(test(c) for c in value) for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    return classes >= 3 or (classes == 2 and len(value) >= 10 and entropy(value) >= 3.0)
