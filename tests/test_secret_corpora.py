"""The secrets gate measured on two corpora: other scanners' test examples, documentation that shows placeholders."""

from __future__ import annotations

import base64
import json
import random
import re
import string
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import markdown
import pytest

from runbooks.checks.secret_filters import published_example_digest
from runbooks.checks.secrets import SecretHit, find_secrets

# Both corpora live in tests/corpora with their sources (repository, path, commit); every text there is encoded,
# so that this repository itself trips no secret scanner, and decoded here.
CORPORA = Path(__file__).parent / "corpora"
SEED = 20260116
# The Markdown extensions of mkdocs.yml that shape a page's HTML (the emoji one only adds icons).
EXTENSIONS = [
    "admonition",
    "attr_list",
    "tables",
    "toc",
    "pymdownx.details",
    "pymdownx.highlight",
    "pymdownx.inlinehilite",
    "pymdownx.superfences",
]
_ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "alnumext": string.ascii_letters + string.digits + "_-",
    "wordext": string.ascii_letters + string.digits + "_-",
    "lowalnum": string.ascii_lowercase + string.digits,
    "hex": "0123456789abcdef",
    "b32": string.ascii_uppercase + "234567",
}
_FIELD = re.compile(r"\{(\w+):(\d+)\}")


def _decode(text: str) -> str:
    return base64.b64decode(text).decode("utf-8")


@dataclass(frozen=True)
class Example:
    """One example of another scanner's tests: its text, what scan-secrets must report, where it comes from."""

    source: str
    path: str
    case: str
    label: bool
    text: str
    expect: tuple[tuple[str, str], ...]
    note: str = ""

    @property
    def relabelled(self) -> bool:
        """Whether what scan-secrets must report differs from the source's own label (`note` says why)."""
        return bool(self.note)


def _generate(template: str, rng: random.Random) -> str:
    return _FIELD.sub(lambda m: "".join(rng.choice(_ALPHABETS[m[1]]) for _ in range(int(m[2]))), template)


@cache
def scanner_examples() -> tuple[dict, tuple[Example, ...]]:
    """The corpus of other scanners' examples, generated parts made here from a fixed seed."""
    data = json.loads((CORPORA / "scanner_examples.json").read_text(encoding="utf-8"))
    contexts = {name: _decode(text) for name, text in data["gitleaks_samples"]["contexts"].items()}
    rng = random.Random(SEED)
    examples = []
    for entry in data["examples"]:
        base = {"source": entry["source"], "path": entry["path"], "case": entry["case"], "label": entry["label"]}
        if "generate" not in entry:
            expect = tuple((e["kind"], _decode(e["secret"])) for e in entry["expect"])
            examples.append(Example(**base, text=_decode(entry["text"]), expect=expect, note=entry.get("note", "")))
            continue
        secret = _generate(_decode(entry["generate"]), rng)
        if "samples" not in entry:
            examples.append(Example(**base, text=secret, expect=((entry["kind"], secret),), note=entry.get("note", "")))
            continue
        identifier = entry["samples"]
        for name, context in contexts.items():
            text = context.replace("{i}", identifier).replace("{I}", identifier.upper()).replace("{s}", secret)
            context_note = entry.get("contexts", {}).get(name)
            expect = () if context_note else ((entry["kind"], secret),)
            note = context_note or entry.get("note", "")
            examples.append(
                Example(**{**base, "case": f"{entry['case']} in {name}"}, text=text, expect=expect, note=note)
            )
            secret = _generate(_decode(entry["generate"]), rng)
    return data, tuple(examples)


def _matches(hit: SecretHit, kind: str, secret: str) -> bool:
    return hit.name == kind and (hit.value in secret or secret in hit.value)


@dataclass
class Outcome:
    """What scan-secrets made of a set of examples."""

    expected: int = 0
    found: int = 0
    missed: list[str] | None = None
    false_positives: list[str] | None = None

    @property
    def recall(self) -> float:
        """Found over expected."""
        return self.found / self.expected if self.expected else 1.0


def _measure(examples: tuple[Example, ...], render) -> Outcome:
    outcome = Outcome(missed=[], false_positives=[])
    for example in examples:
        hits = find_secrets(render(example.text))
        for kind, secret in example.expect:
            outcome.expected += 1
            if any(_matches(hit, kind, secret) for hit in hits):
                outcome.found += 1
            else:
                outcome.missed.append(
                    f"{example.source} {example.path} {example.case}: {kind} {[h.name for h in hits]}"
                )
        for hit in hits:
            if not any(_matches(hit, kind, secret) for kind, secret in example.expect):
                outcome.false_positives.append(
                    f"{example.source} {example.path} {example.case}: {hit.name} {hit.value[:4]}"
                )
    return outcome


def _as_html(text: str) -> str:
    return markdown.markdown(f"```\n{text}\n```", extensions=EXTENSIONS)


def _as_search_index(text: str) -> str:
    page = markdown.markdown(f"```\n{text}\n```", extensions=EXTENSIONS)
    return json.dumps({"docs": [{"location": "example/", "title": "Example", "text": page}]})


FORMS = {"text": lambda text: text, "html": _as_html, "search index": _as_search_index}


@pytest.mark.parametrize("form", FORMS)
def test_other_scanners_examples_all_true_found_no_false_reported(form):
    _, examples = scanner_examples()
    outcome = _measure(examples, FORMS[form])

    summary = (
        f"{form}: recall {outcome.recall:.1%} ({outcome.found}/{outcome.expected}); missed {outcome.missed[:8]}; "
        f"false positives {len(outcome.false_positives)}: {outcome.false_positives[:8]}"
    )
    assert outcome.found == outcome.expected, summary
    assert not outcome.false_positives, summary


@dataclass(frozen=True)
class Page:
    """A documentation page that shows placeholders, and the generated values it shows that may be reported."""

    repository: str
    path: str
    commit: str
    text: str
    allowed: frozenset[tuple[str, str]]
    """(kind, blake2b digest of the value): values a person did not type, each with its reason in the corpus."""


@cache
def documentation_pages() -> tuple[Page, ...]:
    """The corpus of documentation pages, decoded."""
    data = json.loads((CORPORA / "documentation_pages.json").read_text(encoding="utf-8"))
    return tuple(
        Page(
            page["repository"],
            page["path"],
            page["commit"],
            zlib.decompress(base64.b85decode(page["text"])).decode("utf-8"),
            frozenset((entry["kind"], entry["digest"]) for entry in page["allowed"]),
        )
        for page in data["pages"]
    )


def _page_forms(page: Page) -> dict[str, str]:
    # As the site renders a page (Pygments highlights its code blocks) and as its search index holds it.
    rendered = markdown.markdown(page.text, extensions=EXTENSIONS)
    index = json.dumps({"docs": [{"location": page.path, "title": page.path, "text": rendered}]})
    return {"markdown": page.text, "html": rendered, "search index": index}


def test_documentation_placeholders_are_not_reported_only_generated_values_are():
    reported: Counter[str] = Counter()
    unexpected = []
    for page in documentation_pages():
        for form, text in _page_forms(page).items():
            for hit in find_secrets(text):
                if (hit.name, published_example_digest(hit.value)) in page.allowed:
                    reported[form] += 1
                else:
                    unexpected.append(
                        f"{page.repository} {page.path} ({form}) line {hit.line}: {hit.name} {hit.value[:4]}"
                    )

    assert not unexpected, f"{len(unexpected)} findings on documentation placeholders: {unexpected[:10]}"
    assert reported["markdown"] >= sum(len(page.allowed) for page in documentation_pages()) > 0


def test_the_allowed_values_of_documentation_are_real_shaped():
    # The rule: a value may be reported on a documentation page only if it is random as a generated key is.
    from runbooks.checks.secret_filters import looks_random

    for page in documentation_pages():
        found = {(hit.name, published_example_digest(hit.value)): hit.value for hit in find_secrets(page.text)}
        for key in page.allowed:
            assert key in found, f"{page.path}: an allowed value is no longer found: {key}"
            assert looks_random(found[key]), f"{page.path}: {key[0]} is not random"


def test_the_corpora_record_their_sources():
    data, examples = scanner_examples()
    assert {source["repository"] for source in data["sources"].values()} == {
        "gitleaks/gitleaks",
        "trufflesecurity/trufflehog",
        "Yelp/detect-secrets",
    }
    assert all(re.fullmatch(r"[0-9a-f]{40}", source["commit"]) for source in data["sources"].values())
    assert all(
        entry["repository"] == data["sources"][entry["source"]]["repository"]
        and entry["commit"] == data["sources"][entry["source"]]["commit"]
        and entry["path"]
        for entry in data["examples"]
    )
    assert all(example.path for example in examples)
    pages = documentation_pages()
    assert all(re.fullmatch(r"[0-9a-f]{40}", page.commit) and page.path and page.repository for page in pages)
    assert {page.repository for page in pages} >= {"BerriAI/litellm-docs", "openai/openai-python"}


def test_the_repository_holds_no_example_in_clear():
    # What the pre-commit check greps for must not be in the corpora: they are stored encoded.
    shapes = re.compile(
        r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|sk-ant-(?:api|admin)\d\d-|AIza[0-9A-Za-z_-]{35}|T3Bl" "bkFJ"
    )
    for path in CORPORA.iterdir():
        assert not shapes.search(path.read_text(encoding="utf-8")), path.name


def corpus_figures() -> dict[str, int]:
    """The figures the README reports for both corpora."""
    _, examples = scanner_examples()
    true = [e for e in examples if e.label]
    false = [e for e in examples if not e.label]
    found = 0
    reported_false = 0
    for example in examples:
        hits = find_secrets(example.text)
        if example.label and example.expect:
            found += all(any(_matches(h, kind, secret) for h in hits) for kind, secret in example.expect)
        if not example.label and not example.expect:
            reported_false += bool(hits)
    pages = documentation_pages()
    return {
        "examples": len(examples),
        "true": len(true),
        "false": len(false),
        "true_secrets": sum(bool(e.expect) for e in true),
        "true_found": found,
        "true_placeholders": sum(not e.expect for e in true),
        "true_other_kind": sum(bool(e.expect) and e.relabelled for e in true),
        "false_clean": sum(not e.expect for e in false),
        "false_reported": reported_false,
        "false_other_kind": sum(bool(e.expect) for e in false),
        "pages": len(pages),
        "page_lines": sum(page.text.count("\n") + 1 for page in pages),
        "allowed": sum(len(page.allowed) for page in pages),
    }


def test_the_figures_the_readme_reports():
    figures = corpus_figures()
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("### `scan-secrets`")
    section = readme[start : readme.find("\n### ", start + 1)]
    for name, value in figures.items():
        assert f"{value:,}" in section, f"README's scan-secrets section does not state {name} = {value}"
    assert figures["true_found"] == figures["true_secrets"] and figures["false_reported"] == 0
