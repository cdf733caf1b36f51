"""Pure rendering: a site's page in, its Markdown in one language out, from the template named after it."""

from __future__ import annotations

import functools
import html
import re

import jinja2

from runbooks.bytecode import bytecode_cache
from runbooks.labels import TEMPLATES
from runbooks.prices import tokens, usd
from runbooks.proxy_examples import api_call, snippets
from runbooks.schema import LANGUAGES, ErrorCode, Provider, TeamFile
from runbooks.site import Page, Site


def render(page: Page, site: Site, lang: str) -> str:
    """The Markdown of `page` in `lang`, from the template named after the page's kind."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; the site is written in {', '.join(LANGUAGES)}")
    template = _environment(str(TEMPLATES)).get_template(f"{page.kind}.md.j2")
    try:
        return _fill(template, page, site, lang)
    except jinja2.TemplateError as exc:
        raise RenderError(f"runbooks/templates/{page.kind}.md.j2 ({page.path}, {lang}): {exc}") from None


class RenderError(Exception):
    """A template could not be filled from the data."""


def _fill(template: jinja2.Template, page: Page, site: Site, lang: str) -> str:
    dataset = site.dataset
    return template.render(
        lang=lang,
        page=page,
        site=site,
        providers=dataset.providers.providers,
        team=dataset.team,
        tiers={tier.id: tier for tier in dataset.team.cost_control.tiers},
        faqs=site.faqs,
        faq_pages=site.faq_homes,
        large=site.large,
        label=lambda key, **values: site.labels.text(key, lang, **values),
        link=lambda target, anchor="": _link(page.path, target, anchor),
        loc=lambda text: md(text(lang)),
        verified=site.verified(page),
        has_page=site.has_page,
        prices=site.prices,
        price_source=dataset.prices.source if dataset.prices else None,
        examples=lambda kind: snippets(kind, dataset.providers.providers, dataset.team),
        **page.context,
    )


# --- Facts the templates and the tests share ----------------------------------------------------


def smoke_test_command(team: TeamFile, model: str | None = None) -> str:
    """The curl command that asks the proxy for one completion, exactly as the runbook shows it."""
    body = {"model": model or team.server.smoke_test_model, "messages": [{"role": "user", "content": "ping"}]}
    return api_call(team, "/v1/chat/completions", body, indent=None)


def ops_command(team: TeamFile, kind: str) -> str:
    """The shell command of one after-recharge step."""
    server = team.server
    commands = {
        "edit_keys": f"nano {server.keys_file}",
        "reload": f"bash {server.reload_script}",
        "smoke_test": smoke_test_command(team),
    }
    return commands[kind]


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
        error_anchor=error_anchor,
        error_catalog=error_catalog,
        models_by_tier=models_by_tier,
        join_text=join_text,
        url_kinds=("console", "billing", "api_keys", "usage"),
    )
    return env


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
