"""The site's structure: its pages, their navigation, and where each FAQ is answered, derived once per build."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from runbooks.audience import AUDIENCES
from runbooks.labels import Labels, load_labels
from runbooks.loader import Dataset
from runbooks.schema import Faq, ModelPrice, Text
from runbooks.visibility import public_view

PROVIDERS_LISTED_MAX = 30
"""The most providers the shared pages list one by one; a site with more is *large* (`Site.large`).

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

_SHARED_PAGES = (
    ("after-recharge", "operations"),
    ("roles", "operations"),
    ("config-map", "operations"),
    ("faq", "troubleshooting"),
    ("errors", "troubleshooting"),
    ("cost-control", None),
)
"""The pages after the providers', by kind, with the navigation section each belongs to."""


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


class Verified(NamedTuple):
    """The dates a page's facts were last verified: the oldest and the newest of its sources."""

    oldest: dt.date
    newest: dt.date


@dataclass(frozen=True)
class Site:
    """Everything one build renders from: the data, the fixed words, the audience, and what derives from them.

    Made once per build with `Site.of`; every page and every answer-engine file of the build is
    rendered from the same value, so nothing is derived twice and nothing is cached elsewhere.
    """

    dataset: Dataset
    labels: Labels
    audience: str
    pages: tuple[Page, ...]
    faqs: Mapping[str, Faq]
    """Every FAQ entry by id: the team's general ones first, then each provider's."""
    faq_homes: Mapping[str, str]
    """Where each FAQ entry is answered in full, by id: the FAQ page, or its provider's page on a large site."""
    faq_owners: Mapping[str, str]
    """The provider each provider FAQ entry is filed under, by id."""
    prices: Mapping[str, ModelPrice]
    """The price snapshot's entry of every documented model, by model name (empty without a snapshot)."""
    _by_path: Mapping[str, Page] = field(repr=False)
    _faqs_by_page: Mapping[str, list[Faq]] = field(repr=False)
    _verified_span: Verified = field(repr=False)

    @classmethod
    def of(cls, dataset: Dataset, labels: Labels | None = None, *, audience: str = "internal") -> Site:
        """Derive the site of `dataset` for `audience`."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience '{audience}'; use one of: {', '.join(AUDIENCES)}")
        labels = labels or load_labels()
        providers = dataset.providers.providers
        large = len(providers) > PROVIDERS_LISTED_MAX
        faqs = {faq.id: faq for faq in dataset.team.faqs}
        homes = dict.fromkeys(faqs, "faq.md")
        owners: dict[str, str] = {}
        for pid, provider in providers.items():
            for faq in provider.faqs:
                faqs[faq.id] = faq
                homes[faq.id] = f"providers/{pid}.md" if large else "faq.md"
                owners[faq.id] = pid
        pages = tuple(_pages(dataset, labels))
        by_page: dict[str, list[Faq]] = {}
        for fid, path in homes.items():
            by_page.setdefault(path, []).append(faqs[fid])
        days = [dataset.team.verified_on, *(p.verified_on for p in providers.values())]
        return cls(
            dataset=dataset,
            labels=labels,
            audience=audience,
            pages=pages,
            faqs=faqs,
            faq_homes=homes,
            faq_owners=owners,
            prices=dict(dataset.prices.models) if dataset.prices else {},
            _by_path={page.path: page for page in pages},
            _faqs_by_page=by_page,
            _verified_span=Verified(min(days), max(days)),
        )

    @classmethod
    def for_audience(cls, dataset: Dataset, audience: str) -> Site:
        """The site `audience` reads: the public one is made of the public view of `dataset` only.

        WithheldError when a public view of `dataset` cannot be made.
        """
        return cls.of(public_view(dataset) if audience == "public" else dataset, audience=audience)

    @property
    def large(self) -> bool:
        """Whether the site has more than PROVIDERS_LISTED_MAX providers (see there for what changes)."""
        return len(self.dataset.providers.providers) > PROVIDERS_LISTED_MAX

    def page(self, path: str) -> Page:
        """The page at `path` (under the docs root); KeyError if the site has none."""
        return self._by_path[path]

    def page_at(self, path: str) -> Page | None:
        """The page at `path`, or None for a file of the docs directory that is not one of the site's pages."""
        return self._by_path.get(path)

    def page_of(self, kind: str) -> Page | None:
        """The first page of `kind`, or None when the site has none."""
        return next((page for page in self.pages if page.kind == kind), None)

    def has_page(self, kind: str) -> bool:
        """Whether the site has a page of `kind`: the team-only pages exist only when their facts are shown."""
        return self.page_of(kind) is not None

    def in_nav(self, page: Page) -> bool:
        """Whether the navigation lists `page`: all pages, except provider pages on a large site."""
        return page.kind != "provider" or not self.large

    def nav(self, lang: str) -> list[dict[str, Any]]:
        """The site navigation for one language, in the shape MkDocs' `nav` setting takes."""
        entries: list[dict[str, Any]] = []
        sections: dict[str, list[dict[str, str]]] = {}
        for page in self.pages:
            if not self.in_nav(page):
                continue
            item = {page.title(lang): page.path}
            if page.section is None:
                entries.append(item)
            elif page.section not in sections:
                sections[page.section] = [item]
                entries.append({self.labels[f"section_{page.section}"](lang): sections[page.section]})
            else:
                sections[page.section].append(item)
        return entries

    def faqs_on(self, page: Page) -> list[Faq]:
        """The FAQ entries answered in full on `page`, in the order they appear there."""
        return self._faqs_by_page.get(page.path, [])

    def faq_providers(self, faq: Faq) -> list[str]:
        """The ids of the providers an FAQ entry concerns: the one it is filed under first, then those it names."""
        owner = self.faq_owners.get(faq.id)
        return list(dict.fromkeys([owner, *faq.providers] if owner else faq.providers))

    def verified(self, page: Page) -> Verified:
        """When the facts on `page` were verified: its provider's date, or the span over every data file."""
        if page.kind == "provider":
            day = self.dataset.providers.providers[page.context["pid"]].verified_on
            return Verified(day, day)
        return self._verified_span


def _pages(dataset: Dataset, labels: Labels) -> list[Page]:
    """Every page of the site, in navigation order; a page whose facts are all withheld is left out."""
    out = [Page("index.md", "home", labels["page_home"])]
    out.append(Page("providers/index.md", "providers", labels["page_providers"], "providers"))
    for pid, provider in dataset.providers.providers.items():
        out.append(Page(f"providers/{pid}.md", "provider", provider.name, "providers", {"pid": pid}))
    made_of = {"after-recharge": dataset.team.after_recharge, "roles": dataset.team.roles}
    for kind, section in _SHARED_PAGES:
        if made_of.get(kind, True):
            out.append(Page(f"{kind}.md", kind, labels[f"page_{kind.replace('-', '_')}"], section))
    return out
