"""How the gates read a built site: every file's text, and each text as a reader or a crawler sees it."""

from __future__ import annotations

import gzip
import html
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
_JSON_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": " ", "r": " ", "t": " "}
# Lowercase element names only, so a placeholder such as `<LITELLM_MASTER_KEY>` stays in the text.
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>")
_MAX_ESCAPE_LAYERS = 4


def _json_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match[1]
        return chr(int(escape[1:], 16)) if escape[0] == "u" else _JSON_SIMPLE[escape]

    return _JSON_ESCAPE.sub(replace, text)


def reader_texts(line: str) -> list[str]:
    """The line as a reader or a crawler sees it: escapes undone, and again without the markup between words."""
    # HTML inside a JSON string inside HTML is common (search index, inline config), so undo layers to a fixpoint.
    text = line
    for _ in range(_MAX_ESCAPE_LAYERS):
        unescaped = html.unescape(_json_unescape(text))
        if unescaped == text:
            break
        text = unescaped
    # Syntax highlighting wraps each token of a code block in its own <span>.
    bare = _TAG.sub("", text)
    return [text] if bare == text else [text, bare]


def site_text(path: Path, data: bytes | None = None) -> str | None:
    """The text of one site file (its `data`, if already read), gunzipped if needed; None for binary files.

    Raises OSError if the file cannot be read.
    """
    data = path.read_bytes() if data is None else data
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise OSError(f"not a valid gzip file: {exc}") from None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def site_files(site_dir: Path) -> Iterator[Path]:
    """Every file of the site, in a stable order."""
    for path in sorted(site_dir.rglob("*")):
        if path.is_file():
            yield path
