"""Say which error catalog entry a pasted error is — the proxy's JSON, a log line, a chat UI's message — and what to do.

`python -m runbooks explain` matches the text against the phrases each entry says people see (`match`, checked
against data/observations.yaml), breaks ties by the provider the text names (its exception in LiteLLM's
messages, its models, its name), and prints the entry in the language of the text. Nothing it finds that looks
like a key is ever printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from runbooks.labels import Labels, load_labels
from runbooks.loader import Dataset
from runbooks.render import error_anchor
from runbooks.rules import observed_text
from runbooks.schema import LANGUAGES, ErrorCode, ProxyError, Text, observation_key

_KEY_SHAPES = re.compile(
    r"""
    \bsk-(?:proj-|ant-(?:api\d+-)?|or-v\d-)?[A-Za-z0-9_\-]{12,}   # OpenAI, Anthropic, LiteLLM, DeepSeek keys
    | \bAIza[0-9A-Za-z_\-]{30,}                                   # Google API keys
    | \beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}  # JWTs (Zhipu's signed tokens)
    | \b[0-9a-f]{32}\.[A-Za-z0-9_\-]{12,}                          # Zhipu keys: id.secret
    | (?<=Bearer\ )\S{8,}                                          # whatever follows Bearer
    | (?<=x-api-key:\ )\S{8,}
    | (?<=x-goog-api-key:\ )\S{8,}
    """,
    re.VERBOSE | re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_STATUS = re.compile(r"(?<![\d.])([1-5]\d\d)(?![\d.])")
_EXCEPTION = re.compile(r"\b([A-Z][A-Za-z]+Exception)\b")
_GENERIC_EXCEPTIONS = {"ProxyException", "HTTPException"}

SEND_TO_TECH_LEAD: tuple[str, ...] = (
    "explain_send_time",
    "explain_send_model",
    "explain_send_status",
    "explain_send_text",
    "explain_send_where",
)
"""The non-secret details to send when nothing matched, by label."""


@dataclass(frozen=True)
class Entry:
    """One entry of the error catalog as `explain` sees it: where it is and what identifies it."""

    key: str
    """Its key in data/observations.yaml: `openai/insufficient_quota`, `proxy/proxy-down`."""
    provider: str | None
    """The provider's id, None for the proxy's own errors."""
    record: ErrorCode | ProxyError
    markers: frozenset[str] = field(default_factory=frozenset)
    """Words that name the provider in what people see (its exception in LiteLLM's messages, models, name)."""

    @property
    def phrases(self) -> list[str]:
        """The phrases that identify the entry."""
        return list(self.record.match)

    @property
    def title(self) -> Text | str:
        """A proxy error's title, a provider error's code."""
        return self.record.title if isinstance(self.record, ProxyError) else self.record.code

    def url(self, site_url: str, lang: str) -> str:
        """The page and anchor where the entry is written up, in `lang`."""
        root = site_url.rstrip("/") + "/" + ("" if lang == LANGUAGES[0] else f"{lang}/")
        if isinstance(self.record, ProxyError):
            return f"{root}errors/#proxy-{self.record.id}"
        return f"{root}providers/{self.provider}/#{error_anchor(self.record.code)}"


@dataclass(frozen=True)
class Explanation:
    """What a pasted text matched: the best entries (several only when they cannot be told apart), and more."""

    matches: list[Entry]
    lang: Literal["zh", "en"]
    hidden_keys: int
    """How many key-like strings the text held (never shown)."""


def catalog(dataset: Dataset) -> list[Entry]:
    """Every entry of the error catalog with what identifies it: the providers' errors, then the proxy's own."""
    observed = dataset.observations.errors if dataset.observations else {}
    entries = []
    for pid, provider in dataset.providers.providers.items():
        markers = {m.name.casefold() for m in provider.models} | {f"{provider.litellm_prefix}/"}
        markers |= {provider.name(lang).split()[0].casefold() for lang in LANGUAGES}
        for err in provider.errors:
            obs = observed.get(observation_key(pid, err.code))
            if obs is not None:
                markers |= {e.casefold() for e in _EXCEPTION.findall(observed_text(obs))} - {
                    e.casefold() for e in _GENERIC_EXCEPTIONS
                }
        for err in provider.errors:
            if err.match:
                entries.append(Entry(observation_key(pid, err.code), pid, err, frozenset(markers)))
    for perr in dataset.proxy_errors.errors if dataset.proxy_errors else []:
        entries.append(Entry(observation_key("proxy", perr.id), None, perr))
    return entries


def hide_keys(text: str) -> tuple[str, int]:
    """`text` with every key-like string replaced by `[key hidden]`, and how many there were."""
    return _KEY_SHAPES.subn("[key hidden]", text)


def explain(text: str, dataset: Dataset) -> Explanation:
    """Which catalog entries `text` matches best; an empty list when none of their phrases is in it."""
    clean, hidden = hide_keys(text)
    seen = " ".join(clean.split()).casefold()
    statuses = set(_STATUS.findall(seen))
    entries = catalog(dataset)
    scored: list[tuple[float, Entry]] = []
    for entry in entries:
        hits = sum(1 for phrase in entry.phrases if " ".join(phrase.split()).casefold() in seen)
        if not hits:
            continue
        score = 10.0 * hits
        own = any(marker in seen for marker in entry.markers)
        other = any(m in seen for e in entries if e.provider not in (None, entry.provider) for m in e.markers)
        if entry.provider is not None:
            score += 1 if own else (-1 if other else 0)
        status = entry.record.member_status if isinstance(entry.record, ErrorCode) else entry.record.status
        if status is not None and str(status) in statuses:
            score += 0.5
        scored.append((score, entry))
    best = max((score for score, _ in scored), default=0)
    lang: Literal["zh", "en"] = "zh" if _CJK.search(clean) else "en"
    return Explanation([entry for score, entry in scored if score == best], lang, hidden)


def render_explanation(
    explanation: Explanation, dataset: Dataset, lang: str, site_url: str, labels: Labels | None = None
) -> str:
    """The explanation as a person reads it in a terminal, in `lang`."""
    labels = labels or load_labels()

    def label(key: str, **values: str) -> str:
        return labels.text(key, lang, **values)

    lines: list[str] = []
    if explanation.hidden_keys:
        lines += [label("explain_keys_hidden", count=str(explanation.hidden_keys)), ""]
    if not explanation.matches:
        lines.append(label("explain_no_match"))
        lines += [f"  - {label(key)}" for key in SEND_TO_TECH_LEAD]
        lines.append(label("explain_never_send"))
        return "\n".join(lines)
    if len(explanation.matches) > 1:
        lines += [label("explain_several"), ""]
    for entry in explanation.matches:
        lines += _entry_lines(entry, dataset, lang, site_url, label)
        lines.append("")
    return "\n".join(lines).rstrip()


def explanation_json(explanation: Explanation, dataset: Dataset, lang: str, site_url: str) -> dict[str, Any]:
    """The explanation as JSON: each matched entry with its key, provider, texts and page URL."""
    return {
        "matched": [
            {
                "entry": entry.key,
                "provider": entry.provider,
                "cause": entry.record.cause(lang),
                "check": entry.record.check(lang),
                "fix": entry.record.fix(lang),
                "url": entry.url(site_url, lang),
            }
            for entry in explanation.matches
        ],
        "hidden_keys": explanation.hidden_keys,
        "lang": lang,
    }


def _entry_lines(entry: Entry, dataset: Dataset, lang: str, site_url: str, label: Any) -> list[str]:
    record = entry.record
    if isinstance(record, ProxyError):
        head = f"{label('explain_proxy')} · {record.title(lang)}"
        status = f"HTTP {record.status}" if record.status else label("explain_no_http")
        head += f" ({status})"
    else:
        assert entry.provider is not None
        name = dataset.providers.providers[entry.provider].name(lang)
        head = f"{name} · {record.code}"
        if record.status is not None and record.member_status is not None:
            head += " (" + label("explain_statuses", provider=str(record.status), member=str(record.member_status))
            head += ")"
    out = [
        head,
        f"{label('explain_means')}{label('colon')}{record.cause(lang)}",
        f"{label('col_check')}{label('colon')}{record.check(lang)}",
        f"{label('col_fix')}{label('colon')}{record.fix(lang)}",
    ]
    if isinstance(record, ErrorCode) and record.billing:
        out.append(label("explain_billing"))
    if isinstance(record, ProxyError) and record.needs_database:
        out.append(label("explain_needs_database"))
    out.append(f"{label('explain_more')}{label('colon')}{entry.url(site_url, lang)}")
    return out
