"""What answer engines read: FAQPage JSON-LD, llms.txt, Markdown mirrors, JSON exports and the sitemap."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import escape as xml_escape

from pydantic import BaseModel, ConfigDict

from runbooks.schema import LANGUAGES, Text
from runbooks.site import Page, Site

SCHEMA_ORG = "https://schema.org"

# --- URLs -----------------------------------------------------------------------------------------


def language_root(site_url: str, lang: str) -> str:
    """The absolute URL of `lang`'s home: the site URL itself for the default language."""
    root = site_url if site_url.endswith("/") else site_url + "/"
    return root if lang == LANGUAGES[0] else urljoin(root, f"{lang}/")


def page_url(page: Page, site_url: str, lang: str) -> str:
    """The absolute URL of `page` in `lang`."""
    return language_root(site_url, lang) + page.url


def mirror_path(page: Page) -> str:
    """Where the Markdown mirror of `page` goes: its URL with `.md` appended (`faq/` → `faq.md`)."""
    return (page.url.rstrip("/") or "index") + ".md"


def alternates(page: Page, site_url: str) -> list[tuple[str, str]]:
    """(hreflang, absolute URL) of `page` in every language, then `x-default` for the default one."""
    links = [(lang, page_url(page, site_url, lang)) for lang in LANGUAGES]
    return [*links, ("x-default", links[0][1])]


# --- Plain text -----------------------------------------------------------------------------------

_CODE_FENCE = re.compile(r"(`+)(.+?)\1")


def plain(text: str) -> str:
    """Data text as a reader sees it on the page: code spans without their backticks, spaces collapsed."""
    return _CODE_FENCE.sub(lambda m: m[2].strip(), " ".join(text.split()))


# --- FAQPage JSON-LD ------------------------------------------------------------------------------


def faq_jsonld(page: Page, site: Site, lang: str, site_url: str) -> dict[str, Any] | None:
    """The schema.org FAQPage of `page` in `lang`: every question answered on it, with its direct answer.

    None for a page that answers no question (`Site.faqs_on`): only the FAQ page on a small site,
    and each provider page with questions of its own on a large one, are FAQ pages.
    """
    faqs = site.faqs_on(page)
    if not faqs:
        return None
    url = page_url(page, site_url, lang)
    questions = [
        {
            "@type": "Question",
            "@id": f"{url}#{faq.id}",
            "url": f"{url}#{faq.id}",
            "name": plain(faq.question(lang)),
            "acceptedAnswer": {"@type": "Answer", "text": plain(faq.answer(lang))},
        }
        for faq in faqs
    ]
    return {
        "@context": SCHEMA_ORG,
        "@type": "FAQPage",
        "@id": url,
        "url": url,
        "name": plain(page.title(lang)),
        "inLanguage": lang,
        "dateModified": site.verified(page).newest.isoformat(),
        "mainEntity": questions,
    }


def faq_urls(site: Site, site_url: str, lang: str) -> dict[str, str]:
    """The permanent URL of every FAQ entry in `lang`, by id: the page that answers it in full, and its anchor."""
    return {fid: f"{page_url(site.page(path), site_url, lang)}#{fid}" for fid, path in site.faq_homes.items()}


def script_json(data: Any) -> str:
    """JSON that is safe inside `<script>`: no text in it can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


# --- llms.txt and Markdown mirrors ----------------------------------------------------------------

_ATTR_LIST = re.compile(r"[ \t]*\{:?[ \t]*[#.][^{}\n]*\}[ \t]*$", re.MULTILINE)
_HEADING_ID = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*\{:?[ \t]*#([A-Za-z0-9_-]+)[^{}\n]*\}[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?)[ \t]+([\w-]+)(?:[ \t]+"(.*)")?[ \t]*$')
_CODE_SPAN_RUN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
_INLINE_LINK = re.compile(r"(?<!\\)\]\(([^()\s]+)\)")
_ENTITY_LIKE = re.compile(r"#?[A-Za-z0-9]+;")
_HTML_ESCAPES = {"&lt;": "\\<", "&gt;": "\\>", "&quot;": '"', "&#x27;": "'", "&#39;": "'"}
_HTML_ESCAPE = re.compile("|".join(re.escape(e) for e in ("&amp;", *_HTML_ESCAPES)))
_ICONS = {":material-check:": "✓", ":material-close:": "✗"}
"""The icon shortcodes the templates use, as the characters a plain Markdown reader shows instead."""


def markdown_mirror(markdown: str, page: Page | None = None, site: Site | None = None) -> str:
    """A page's Markdown as CommonMark (with GitHub's tables) for readers of `.md` URLs.

    What only MkDocs understands is rewritten: a heading's `{ #id }` becomes an HTML anchor in the
    heading, so every anchor of the page is an anchor of the mirror; other attribute lists are
    dropped; an admonition becomes a block quote under its bold title; HTML escapes become Markdown
    escapes (`&amp;` → `&`); icon shortcodes become characters. With `page` and `site`, a link to
    another page (`openai.md`, relative to the page's source) is rewritten to that page's mirror,
    relative to where this mirror is published (`providers/index.md` is published as `providers.md`).
    """
    lines = [_mirror_line(line, page, site) if not code else line for line, code in _blocks(markdown.split("\n"))]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _blocks(lines: list[str]) -> list[tuple[str, bool]]:
    """Each output line, and whether it is code (kept as it is): fenced blocks kept, admonitions made block quotes."""
    out: list[tuple[str, bool]] = []
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if fence:
            out.append((line, True))
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening[1]
            out.append((line, True))
            continue
        admonition = _ADMONITION.match(line)
        if not admonition:
            out.append((line, False))
            continue
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
            body.append(lines[i][4:])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        title = admonition[2] or admonition[1].capitalize()
        out += [(f"> **{title}**", False), (">", True)]
        out += [(f"> {text}" if text else ">", code) for text, code in _blocks(body)]
        # A paragraph right after a block quote would continue it; a blank line ends the quote.
        out.append(("", True))
    return out


def _mirror_line(line: str, page: Page | None, site: Site | None) -> str:
    heading = _HEADING_ID.match(line)
    if heading:
        level, text, anchor = heading.groups()
        return f'{level} <a id="{anchor}"></a>{_inline(text, page, site)}'
    return _inline(_ATTR_LIST.sub("", line), page, site)


def _inline(text: str, page: Page | None, site: Site | None) -> str:
    """Rewrite the text outside code spans: links to mirrors, HTML escapes, icons."""
    if "&" not in text and "](" not in text and ":material-" not in text:
        return text  # most lines: nothing to rewrite (thousands per build on a large site)
    out, last = [], 0
    for span in _CODE_SPAN_RUN.finditer(text):
        out += [_rewrite_text(text[last : span.start()], page, site), span[0]]
        last = span.end()
    out.append(_rewrite_text(text[last:], page, site))
    return "".join(out)


def _rewrite_text(text: str, page: Page | None, site: Site | None) -> str:
    if page is not None and site is not None:
        text = _INLINE_LINK.sub(lambda m: f"]({_mirror_link(m[1], page, site)})", text)
    text = _HTML_ESCAPE.sub(lambda m: _unescape(m, text), text)
    for shortcode, char in _ICONS.items():
        text = text.replace(shortcode, char)
    return text


def _unescape(match: re.Match[str], text: str) -> str:
    if match[0] != "&amp;":
        return _HTML_ESCAPES[match[0]]
    # A bare `&` stays literal in CommonMark, unless what follows would read as an entity.
    return "\\&" if _ENTITY_LIKE.match(text, match.end()) else "&"


def _mirror_link(target: str, page: Page, site: Site) -> str:
    """Where a link of `page`'s Markdown leads in the mirrors: the target page's mirror, relative to this one."""
    if target.startswith("#") or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target):
        return target
    path, hash_, fragment = target.partition("#")
    if not path.endswith(".md"):
        return target
    linked = site.page_at(posixpath.normpath(posixpath.join(posixpath.dirname(page.path), path)))
    if linked is None:
        return target
    return _relative(mirror_path(linked), mirror_path(page)) + hash_ + fragment


def _relative(target: str, source: str) -> str:
    """The relative link from file `source` to file `target` (paths under one root), without the file system."""
    folders, parts = source.split("/")[:-1], target.split("/")
    common = 0
    while common < len(folders) and common < len(parts) - 1 and folders[common] == parts[common]:
        common += 1
    return "/".join([".."] * (len(folders) - common) + parts[common:])


def llms_txt(site: Site, lang: str, site_url: str, *, title: str) -> str:
    """The llms.txt of one language (llmstxt.org): H1, a summary, then H2 lists of links with notes."""
    words = site.labels
    root = language_root(site_url, lang)

    def item(name: str, url: str, note: str = "") -> str:
        return f"- [{_link_text(name)}]({url})" + (f": {plain(note)}" if note else "")

    out = [f"# {title}", "", f"> {plain(words['llms_summary'](lang))}", "", plain(words["llms_intro"](lang)), ""]
    others = [other for other in LANGUAGES if other != lang]
    out += [
        plain(words["llms_other_languages"](lang))
        + " "
        + ", ".join(f"{language_root(site_url, other)}llms.txt" for other in others),
        "",
    ]
    out += [f"## {words['section_providers'](lang)}", ""]
    for page in site.pages:
        if page.kind == "provider":
            provider = site.dataset.providers.providers[page.context["pid"]]
            out.append(item(provider.name(lang), root + mirror_path(page), provider.summary(lang)))
    out += ["", f"## {words['page_faq'](lang)}", ""]
    urls = faq_urls(site, site_url, lang)
    for faq in site.faqs.values():
        out.append(item(faq.question(lang), urls[faq.id], faq.answer(lang)))
    out += ["", f"## {words['llms_guides'](lang)}", ""]
    for page in site.pages:
        if page.kind not in ("provider", "faq", "home"):
            out.append(
                item(
                    page.title(lang), root + mirror_path(page), words[f"llms_note_{page.kind.replace('-', '_')}"](lang)
                )
            )
    out += ["", "## Optional", ""]
    out.append(item("llms-full.txt", root + "llms-full.txt", words["llms_note_full"](lang)))
    top = language_root(site_url, LANGUAGES[0])
    out.append(item("providers.json", top + "providers.json", words["llms_note_providers_json"](lang)))
    out.append(item("faq.json", top + "faq.json", words["llms_note_faq_json"](lang)))
    return "\n".join(out) + "\n"


def llms_full_txt(site: Site, lang: str, site_url: str, *, title: str) -> str:
    """Every FAQ entry in full, in one Markdown file, for readers that want the answers without crawling."""
    words = site.labels
    urls = faq_urls(site, site_url, lang)
    colon = words["colon"](lang)
    out = [f"# {title}: {words['page_faq'](lang)}", "", f"> {plain(words['llms_summary'](lang))}", ""]
    for faq in site.faqs.values():
        out += [f"## {plain(faq.question(lang))}", "", f"{words['llms_permalink'](lang)}{colon}{urls[faq.id]}", ""]
        out += [plain(faq.answer(lang)), ""]
        out += [f"{words['faq_basis'](lang)}{colon}{plain(faq.basis(lang))}", ""]
        out += [f"{words['faq_boundary'](lang)}{colon}{plain(faq.boundary(lang))}", ""]
        if faq.next_steps:
            out += [f"{words['faq_next_steps'](lang)}{colon}", ""]
            out += [f"{n}. {plain(step(lang))}" for n, step in enumerate(faq.next_steps, 1)] + [""]
        concerns = site.faq_providers(faq)
        if concerns:
            names = [site.dataset.providers.providers[pid].name(lang) for pid in concerns]
            out += [f"{words['faq_runbooks'](lang)}{colon}{words['list_separator'](lang).join(names)}", ""]
    return "\n".join(out)


# --- JSON exports ---------------------------------------------------------------------------------


class _Export(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExportText(_Export):
    """A text in every language of the site."""

    zh: str
    en: str


class ExportModel(_Export):
    """A model the proxy serves."""

    name: str
    upstream: str
    litellm_model: str
    tier: str


class ExportError(_Export):
    """An error code of a provider, with its cause, what to check and the fix."""

    code: str
    status: int | None
    cause: ExportText
    check: ExportText
    fix: ExportText


class ExportProvider(_Export):
    """The public facts of one provider."""

    id: str
    name: ExportText
    summary: ExportText
    env_var: str
    litellm_prefix: str
    urls: dict[str, str]
    models: list[ExportModel]
    recharge_steps: list[ExportText]
    errors: list[ExportError]
    verified_on: dt.date
    runbook: ExportText


class ProvidersExport(_Export):
    """providers.json: every documented provider's public facts."""

    generated_from: str
    verified_on: dt.date
    providers: list[ExportProvider]


class ExportFaq(_Export):
    """One FAQ entry with its permanent URL in every language."""

    id: str
    question: ExportText
    answer: ExportText
    basis: ExportText
    boundary: ExportText
    next_steps: list[ExportText]
    related: list[str]
    providers: list[str]
    url: ExportText


class FaqExport(_Export):
    """faq.json: every FAQ entry, in every language."""

    generated_from: str
    date_modified: dt.date
    questions: list[ExportFaq]


EXPORTS: dict[str, type[_Export]] = {"providers.json": ProvidersExport, "faq.json": FaqExport}
"""Each JSON file published at the site root, by the model that defines (and documents) its shape."""


def schema_name(export: str) -> str:
    """The file name of the JSON Schema published beside an export: `faq.json` → `faq.schema.json`."""
    return export.removesuffix(".json") + ".schema.json"


def json_schema(export: str, site_url: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one export, with its public `$id`."""
    schema = EXPORTS[export].model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": site_url + schema_name(export), **schema}


def providers_export(site: Site, site_url: str) -> dict[str, Any]:
    """The content of providers.json."""
    dataset = site.dataset
    providers = [
        ExportProvider(
            id=pid,
            name=_text(p.name),
            summary=_text(p.summary),
            env_var=p.env_var,
            litellm_prefix=p.litellm_prefix,
            urls=p.urls.model_dump(exclude={"visibility"}),
            models=[
                ExportModel(name=m.name, upstream=m.upstream, litellm_model=p.route(m), tier=m.tier) for m in p.models
            ],
            recharge_steps=[_text(step.text) for step in p.recharge_steps],
            errors=[
                ExportError(code=e.code, status=e.status, cause=_text(e.cause), check=_text(e.check), fix=_text(e.fix))
                for e in p.errors
            ],
            verified_on=p.verified_on,
            runbook=ExportText(
                **{lang: page_url(site.page(f"providers/{pid}.md"), site_url, lang) for lang in LANGUAGES}
            ),
        )
        for pid, p in dataset.providers.providers.items()
    ]
    newest = max(p.verified_on for p in dataset.providers.providers.values())
    export = ProvidersExport(generated_from="data/providers.yaml", verified_on=newest, providers=providers)
    return export.model_dump(mode="json")


def faq_export(site: Site, site_url: str) -> dict[str, Any]:
    """The content of faq.json."""
    page = site.page("faq.md")
    urls = {lang: faq_urls(site, site_url, lang) for lang in LANGUAGES}
    questions = [
        ExportFaq(
            id=faq.id,
            question=_text(faq.question),
            answer=_text(faq.answer),
            basis=_text(faq.basis),
            boundary=_text(faq.boundary),
            next_steps=[_text(step) for step in faq.next_steps],
            related=list(faq.related),
            providers=site.faq_providers(faq),
            url=ExportText(**{lang: urls[lang][faq.id] for lang in LANGUAGES}),
        )
        for faq in site.faqs.values()
    ]
    export = FaqExport(
        generated_from="data/team.yaml, data/providers.yaml",
        date_modified=site.verified(page).newest,
        questions=questions,
    )
    return export.model_dump(mode="json")


# --- Crawlers -------------------------------------------------------------------------------------


def robots_txt(site_url: str, *, public: bool) -> str:
    """robots.txt: the public site points crawlers at its sitemap; the team's site turns every crawler away.

    The rules cover the site's own path (`/`, or `/docs/` for a site served under a sub-path).
    Crawlers read only the host's `/robots.txt`, so a site under a sub-path needs these lines
    there; its own copy is not read.
    """
    path = urlsplit(site_url).path or "/"
    path = path if path.endswith("/") else path + "/"
    if not public:
        return f"# The team's internal runbooks: not for indexing.\nUser-agent: *\nDisallow: {path}\n"
    return f"User-agent: *\nAllow: {path}\n\nSitemap: {site_url}sitemap.xml\n"


# --- Sitemap --------------------------------------------------------------------------------------


def sitemap_xml(site: Site, site_url: str) -> str:
    """One sitemap for every language: each page in each language, with its alternates and last verification."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for page in site.pages:
        links = alternates(page, site_url)
        lastmod = site.verified(page).newest.isoformat()
        for lang in LANGUAGES:
            out += [
                "  <url>",
                f"    <loc>{xml_escape(page_url(page, site_url, lang))}</loc>",
                f"    <lastmod>{lastmod}</lastmod>",
            ]
            out += [
                f'    <xhtml:link rel="alternate" hreflang="{hreflang}" href="{xml_escape(href)}"/>'
                for hreflang, href in links
            ]
            out.append("  </url>")
    out.append("</urlset>")
    return "\n".join(out) + "\n"


# --- The files of a build -------------------------------------------------------------------------


def language_files(site: Site, lang: str, site_url: str, markdown: Mapping[str, str], *, title: str) -> dict[str, str]:
    """The files one language adds beside its pages: the Markdown mirrors, and llms.txt files on the public site.

    `markdown` is each page's Markdown as rendered for the build, by page path.
    """
    files = {mirror_path(page): markdown_mirror(markdown[page.path], page, site) for page in site.pages}
    if site.audience == "public":
        files["llms.txt"] = llms_txt(site, lang, site_url, title=title)
        files["llms-full.txt"] = llms_full_txt(site, lang, site_url, title=title)
    return files


def site_files(site: Site, site_url: str) -> dict[str, str | bytes]:
    """The files at the site root, for every language: robots.txt, one sitemap (public only), the JSON exports."""
    files: dict[str, str | bytes] = {"robots.txt": robots_txt(site_url, public=site.audience == "public")}
    if site.audience == "public":
        sitemap = sitemap_xml(site, site_url)
        files["sitemap.xml"] = sitemap
        files["sitemap.xml.gz"] = gzip.compress(sitemap.encode("utf-8"), mtime=0)
    for name, content in (
        ("providers.json", providers_export(site, site_url)),
        ("faq.json", faq_export(site, site_url)),
    ):
        files[name] = _json_file(content)
        files[schema_name(name)] = _json_file(json_schema(name, site_url))
    return files


# --- Internals ------------------------------------------------------------------------------------


def _json_file(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, indent=2) + "\n"


def _text(text: Text) -> ExportText:
    return ExportText(**{lang: plain(text(lang)) for lang in LANGUAGES})


def _link_text(text: str) -> str:
    return plain(text).replace("[", "(").replace("]", ")")
