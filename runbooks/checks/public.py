"""The leak gate: no internal value of the data may appear anywhere in a public build."""

from __future__ import annotations

import re
from pathlib import Path

from runbooks.checks.site_files import SiteProblem, reader_texts, site_files, site_text
from runbooks.findings import Finding, Unreadable, display_path, dotted
from runbooks.loader import Dataset
from runbooks.visibility import Fact, internal_values, normalize

_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
_SHOWN = 40


def check_public(site_dir: Path, dataset: Dataset, *, display_root: Path | None = None) -> list[Finding]:
    """Find every internal value of `dataset` in the files of `site_dir`, whatever escaping they went through.

    Values are compared as a reader sees them: HTML and JSON escapes undone, tags, Markdown escapes,
    code fences and the search index's word breaks removed. Raises Unreadable if the site cannot be read.
    """
    root = display_root if display_root is not None else site_dir.parent
    if not site_dir.is_dir():
        reason = "is not a directory" if site_dir.exists() else "not found"
        raise Unreadable([Finding("unreadable", f"site directory {reason}", display_path(site_dir, root))])
    secrets = internal_values(dataset)
    findings: list[Finding] = []
    problems: list[SiteProblem] = []
    for path in site_files(site_dir, problems):
        try:
            text = site_text(path)
        except OSError as exc:
            findings.append(Finding("unreadable", f"cannot read: {exc}", display_path(path, root)))
            continue
        if text is None:
            continue
        whole = _reader_text(text)
        for value, fact in secrets.items():
            if value in whole:
                findings.append(_finding(fact, value, display_path(path, root), _line_of(text, value), dataset))
    findings += [Finding(p.reason, p.message, f"{display_path(p.path.parent, root)}/{p.path.name}") for p in problems]
    return findings


def _reader_text(text: str) -> str:
    return " ".join(normalize(_MD_ESCAPE.sub(r"\1", reading)) for reading in reader_texts(text))


def _line_of(text: str, value: str) -> int:
    probe = value[:20]
    for number, line in enumerate(text.splitlines(), 1):
        if probe in _reader_text(line):
            return number
    return 1


def _finding(fact: Fact, value: str, file: str, line: int, dataset: Dataset) -> Finding:
    source, source_line = dataset.where(fact.file, fact.path)
    shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "…"
    return Finding(
        "internal_leak",
        f"the internal fact {dotted(fact.path)} ({source}:{source_line}) is published here: '{shown}'",
        file,
        line,
        context={"path": dotted(fact.path), "source": f"{source}:{source_line}"},
    )
