"""Pure rendering: validated data in, one Markdown string per page and language out (no MkDocs here)."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import jinja2
import jinja2.bccache
from pydantic import BaseModel, ConfigDict, RootModel, StringConstraints, ValidationError

from runbooks.loader import DataError, Dataset, Problem, display_path, dotted, line_of, read_yaml
from runbooks.prices import tokens, usd
from runbooks.proxy_examples import snippets
from runbooks.schema import LANGUAGES, ErrorCode, Faq, ModelPrice, Provider, TeamFile, Text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
"""Where the page templates and their labels live."""


@dataclass(frozen=True)
class Page:
    """One page of the site: where it goes, which template renders it, and what it is about."""

    path: str
    kind: str
    title: Text
    section: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The page's URL relative to its language's root, as MkDocs writes it with directory URLs."""
        stem = self.path.removesuffix(".md")
        if stem == "index":
            return ""
        return stem.removesuffix("/index") + "/"


class Label(BaseModel):
    """One fixed word or phrase of the templates, in every language, spaces kept (the English colon is ": ")."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    zh: Annotated[str, StringConstraints(min_length=1)]
    en: Annotated[str, StringConstraints(min_length=1)]

    def __call__(self, lang: str) -> str:
        """The label in `lang`."""
        return getattr(self, lang)


class Labels(RootModel[dict[str, Label]]):
    """The fixed words of the templates (headings, column names), in every language."""


def pages(dataset: Dataset, labels: Labels | None = None) -> list[Page]:
    """Every page of the site, in navigation order; a page whose facts are all withheld is left out."""
    words = (labels or load_labels()).root
    out = [Page("index.md", "home", words["page_home"])]
    out.append(Page("providers/index.md", "providers", words["page_providers"], "providers"))
    for pid, provider in dataset.providers.providers.items():
        out.append(Page(f"providers/{pid}.md", "provider", provider.name, "providers", {"pid": pid}))
    for kind, section in (
        ("after-recharge", "operations"),
        ("roles", "operations"),
        ("config-map", "operations"),
        ("faq", "troubleshooting"),
        ("errors", "troubleshooting"),
        ("cost-control", None),
    ):
        if has_page(dataset, kind):
            out.append(Page(f"{kind}.md", kind, words[f"page_{kind.replace('-', '_')}"], section))
    return out


def has_page(dataset: Dataset, kind: str) -> bool:
    """Whether the site has a page of `kind`: the team-only pages exist only when their facts are shown."""
    made_of = {"after-recharge": dataset.team.after_recharge, "roles": dataset.team.roles}
    return bool(made_of.get(kind, True))


def nav(dataset: Dataset, lang: str, labels: Labels | None = None) -> list[dict[str, Any]]:
    """The site navigation for one language, in the shape MkDocs' `nav` setting takes."""
    words = (labels or load_labels()).root
    entries: list[dict[str, Any]] = []
    sections: dict[str, list[dict[str, str]]] = {}
    for page in pages(dataset, labels):
        if not in_nav(page, dataset):
            continue
        item = {page.title(lang): page.path}
        if page.section is None:
            entries.append(item)
        elif page.section not in sections:
            sections[page.section] = [item]
            entries.append({words[f"section_{page.section}"](lang): sections[page.section]})
        else:
            sections[page.section].append(item)
    return entries


# --- A structure that scales with the number of providers -------------------------------------

PROVIDERS_LISTED_MAX = 30
"""The most providers the shared pages list one by one; a site with more is *large* (`is_large`).

Every page renders the whole navigation, and the shared pages (FAQ, errors, config map, cost
control) repeat something of every provider, so a site that lists every provider everywhere grows
quadratically with the providers (measured: 1,000 providers per language took about three times as
long with every provider in the navigation). Up to this many providers nothing changes: the
navigation lists each provider's page after the providers index, and the shared pages gather every
provider's details. On a large site each provider's details stay on its own page and everything
else points there: the navigation and the home page hold the providers index only, each provider's
FAQ entries are answered in full on its page (same anchors), the errors page lists which providers
return each code, and the config map and cost control keep their team-wide parts and leave the
per-model tables to the provider pages.
"""


def is_large(dataset: Dataset) -> bool:
    """Whether the site has more than PROVIDERS_LISTED_MAX providers (see there for what changes)."""
    return len(dataset.providers.providers) > PROVIDERS_LISTED_MAX


def in_nav(page: Page, dataset: Dataset) -> bool:
    """Whether the navigation lists `page`: all pages, except provider pages on a large site."""
    return page.kind != "provider" or not is_large(dataset)


def faq_pages(dataset: Dataset) -> dict[str, str]:
    """Where each FAQ entry is answered in full, by id: the FAQ page, or its provider's page on a large site."""
    out = {faq.id: "faq.md" for faq in dataset.team.faqs}
    for pid, provider in dataset.providers.providers.items():
        home = f"providers/{pid}.md" if is_large(dataset) else "faq.md"
        out.update((faq.id, home) for faq in provider.faqs)
    return out


def faqs_on(page: Page, dataset: Dataset) -> list[Faq]:
    """The FAQ entries answered in full on `page`, in the order they appear there."""
    return _once(dataset, _faqs_by_page).get(page.path, [])


def _faqs_by_page(dataset: Dataset) -> dict[str, list[Faq]]:
    out: dict[str, list[Faq]] = {}
    faqs = _once(dataset, all_faqs)
    for fid, path in _once(dataset, faq_pages).items():
        out.setdefault(path, []).append(faqs[fid])
    return out


def render(page: Page, dataset: Dataset, lang: str, labels: Labels | None = None) -> str:
    """The Markdown of `page` in `lang`, from the template named after the page's kind."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; the site is written in {', '.join(LANGUAGES)}")
    words = labels or load_labels()
    template = _environment(str(TEMPLATES)).get_template(f"{page.kind}.md.j2")
    try:
        return _fill(template, page, dataset, lang, words)
    except jinja2.TemplateError as exc:
        raise RenderError(f"templates/{page.kind}.md.j2 ({page.path}, {lang}): {exc}") from None


class RenderError(Exception):
    """A template could not be filled from the data."""


def _fill(template: jinja2.Template, page: Page, dataset: Dataset, lang: str, words: Labels) -> str:
    return template.render(
        lang=lang,
        page=page,
        providers=dataset.providers.providers,
        team=dataset.team,
        tiers={tier.id: tier for tier in dataset.team.cost_control.tiers},
        faqs=_once(dataset, all_faqs),
        faq_pages=_once(dataset, faq_pages),
        large=is_large(dataset),
        label=lambda key, **values: _label(words, key, lang, **values),
        link=lambda target, anchor="": _link(page.path, target, anchor),
        loc=lambda text: md(text(lang)),
        verified=verified_dates(page, dataset),
        has_page=lambda kind: has_page(dataset, kind),
        prices=_once(dataset, model_prices),
        price_source=dataset.prices.source if dataset.prices else None,
        examples=lambda kind: snippets(kind, dataset.providers.providers, dataset.team),
        **page.context,
    )


def load_labels(path: Path | None = None) -> Labels:
    """Read and validate templates/labels.yaml."""
    path = path or TEMPLATES / "labels.yaml"
    return _load_labels(str(path))


@functools.cache
def _load_labels(path: str) -> Labels:
    name = display_path(Path(path), TEMPLATES.parent)
    tree = read_yaml(Path(path), name)
    try:
        return Labels.model_validate({str(k): dict(v) if isinstance(v, dict) else v for k, v in tree.items()})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(name, line_of(tree, loc), dotted(loc), err["msg"].lower()))
        raise DataError(problems) from None


# --- Facts the templates and the tests share ----------------------------------------------------


class Verified(NamedTuple):
    """The dates a page's facts were last verified: the oldest and the newest of its sources."""

    oldest: dt.date
    newest: dt.date


def verified_dates(page: Page, dataset: Dataset) -> Verified:
    """When the facts on `page` were verified: its provider's date, or the span over every data file."""
    if page.kind == "provider":
        day = dataset.providers.providers[page.context["pid"]].verified_on
        return Verified(day, day)
    days = [dataset.team.verified_on, *(p.verified_on for p in dataset.providers.providers.values())]
    return Verified(min(days), max(days))


def faq_providers(faq: Faq, owner: str | None = None) -> list[str]:
    """The ids of the providers an FAQ entry concerns: the one it is filed under first, then those it names."""
    return list(dict.fromkeys([owner, *faq.providers] if owner else faq.providers))


def all_faqs(dataset: Dataset) -> dict[str, Faq]:
    """Every FAQ entry of the data set by id: the team's general ones first, then each provider's."""
    out = {faq.id: faq for faq in dataset.team.faqs}
    for provider in dataset.providers.providers.values():
        out.update((faq.id, faq) for faq in provider.faqs)
    return out


def _once(dataset: Dataset, derive: Callable[[Dataset], Any]) -> Any:
    """`derive(dataset)` for the data set every page of a build is rendered from, computed once, not per page."""
    if not _DERIVED or _DERIVED[0] is not dataset:
        _DERIVED[:] = [dataset, {}]
    cache = _DERIVED[1]
    if derive not in cache:
        cache[derive] = derive(dataset)
    return cache[derive]


# The last data set rendered and what was derived from it (the data set is kept, so identity stays meaningful).
_DERIVED: list[Any] = []


def smoke_test_command(team: TeamFile, model: str | None = None) -> str:
    """The curl command that asks the proxy for one completion, exactly as the runbook shows it."""
    server = team.server
    body = json.dumps(
        {"model": model or server.smoke_test_model, "messages": [{"role": "user", "content": "ping"}]},
        ensure_ascii=False,
    )
    return (
        f"curl -sS {server.proxy_url}/v1/chat/completions \\\n"
        f'  -H "Authorization: Bearer ${server.master_key_env}" \\\n'
        f'  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )


def ops_command(team: TeamFile, kind: str) -> str:
    """The shell command of one after-recharge step."""
    server = team.server
    commands = {
        "edit_keys": f"nano {server.keys_file}",
        "reload": f"bash {server.reload_script}",
        "smoke_test": smoke_test_command(team),
    }
    return commands[kind]


def litellm_model(provider: Provider, upstream: str) -> str:
    """The `litellm_params.model` value that routes to `upstream` at this provider."""
    return f"{provider.litellm_prefix}/{upstream}"


def error_anchor(code: str) -> str:
    """A stable ASCII anchor for an error code: `insufficient_quota` → `error-insufficient-quota`."""
    slug = re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")
    return f"error-{slug}" if slug else "error-" + code.encode().hex()[:12]


def error_catalog(providers: dict[str, Provider]) -> list[tuple[str, list[tuple[str, ErrorCode]]]]:
    """Every error code across providers, each with the providers that return it, by status then code."""
    by_code: dict[str, list[tuple[str, ErrorCode]]] = {}
    for pid, provider in providers.items():
        for err in provider.errors:
            by_code.setdefault(err.code, []).append((pid, err))

    def order(item: tuple[str, list[tuple[str, ErrorCode]]]) -> tuple[int, str]:
        statuses = [e.status for _, e in item[1] if e.status is not None]
        return (min(statuses) if statuses else 999, item[0].lower())

    return sorted(by_code.items(), key=order)


def models_by_tier(providers: dict[str, Provider]) -> dict[str, list[tuple[str, str]]]:
    """Model names per tier id, each with the id of its provider."""
    out: dict[str, list[tuple[str, str]]] = {}
    for pid, provider in providers.items():
        for model in provider.models:
            out.setdefault(model.tier, []).append((pid, model.name))
    return out


# --- Prices (data/prices.yaml) -------------------------------------------------------------------


def model_prices(dataset: Dataset) -> dict[str, ModelPrice]:
    """The price snapshot's entry of every documented model, by model name."""
    if dataset.prices is None:
        raise ValueError("the data set was loaded without data/prices.yaml; load it with prices=True to render")
    return dict(dataset.prices.models)


# --- Escaping -----------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|])")
_MD_LINE_START = re.compile(r"^(?:(#|[-+](?=\s))|(\d+)\.(?=\s))")


def md(text: str) -> str:
    """Make data text safe to drop into Markdown: HTML and Markdown syntax show as typed.

    Backtick code spans are kept (Markdown escapes their content itself); everything else is
    HTML-escaped and has the punctuation that starts Markdown syntax backslash-escaped, so
    `<script>`, `[x](javascript:…)` or `{: onclick=… }` in the data render as text.
    """
    parts = _CODE_SPAN.split(" ".join(text.split()))
    return "".join(p if _CODE_SPAN.fullmatch(p) else _escape_plain(p) for p in parts)


def join_text(*parts: str) -> str:
    """Join sentences the way each script expects: a space between Latin text, none next to CJK."""
    out = ""
    for part in filter(None, parts):
        if out and not (_CJK.match(out[-1]) or _CJK.match(part[0])):
            out += " "
        out += part
    return out


def code(value: str) -> str:
    """An identifier from the data as an inline code span."""
    fence = "``" if "`" in value else "`"
    return f"{fence}{value}{fence}"


def _escape_plain(text: str) -> str:
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    # What would open a heading or a list when the text starts a line.
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", escaped)


# --- Internals ------------------------------------------------------------------------------------


@functools.cache
def bytecode_cache() -> jinja2.BytecodeCache:
    """Where Jinja keeps compiled templates between runs: a private per-user directory in the temp directory.

    Compiling is most of the cost of a template's first use in a process; the cache is keyed by the
    template and checked against its source (and the Python version), so an edited template is
    compiled afresh. Where no safe directory can be made, compiled templates are kept in memory.
    """
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return _MemoryBytecodeCache()


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for the process's lifetime only."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill `bucket` with the code compiled earlier for the same template, if any."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the code just compiled for `bucket`'s template."""
        self._code[bucket.key] = bucket.bytecode_to_string()


@functools.cache
def _environment(templates: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        bytecode_cache=bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=md, code=code, usd=usd, tokens=tokens)
    env.globals.update(
        smoke_test_command=smoke_test_command,
        ops_command=ops_command,
        litellm_model=litellm_model,
        error_anchor=error_anchor,
        error_catalog=error_catalog,
        models_by_tier=models_by_tier,
        join_text=join_text,
        faq_providers=faq_providers,
        url_kinds=("console", "billing", "api_keys", "usage"),
    )
    return env


def _label(labels: Labels, key: str, lang: str, **values: str) -> str:
    """A label in `lang`, with its `{name}` placeholders filled from `values`."""
    try:
        text = labels.root[key](lang)
    except KeyError:
        raise KeyError(f"templates/labels.yaml has no label '{key}'") from None
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _link(source: str, target: str, anchor: str = "") -> str:
    """The Markdown link from page `source` to page `target` (paths under the docs root), with `anchor`."""
    if target == source and anchor:
        return f"#{anchor}"
    # posixpath.relpath, without its calls to os.getcwd: thousands of links per build.
    folders, parts = source.split("/")[:-1], target.split("/")
    common = 0
    while common < len(folders) and common < len(parts) - 1 and folders[common] == parts[common]:
        common += 1
    relative = "/".join([".."] * (len(folders) - common) + parts[common:])
    return relative + (f"#{anchor}" if anchor else "")
