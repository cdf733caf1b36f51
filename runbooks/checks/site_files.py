"""How the gates read a built site: every file's text, and each text as a reader or a crawler sees it."""

from __future__ import annotations

import html
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

MAX_FILE_BYTES = 256 * 2**20
"""A site file larger than this is not read whole: it is reported as unreadable instead."""
MAX_TEXT_BYTES = 64 * 2**20
"""What a compressed file (a `.gz`, a PNG's zTXt chunk) may expand to before it counts as a decompression bomb."""

_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
_JSON_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": " ", "r": " ", "t": " "}
# The elements of HTML and inline SVG. Only these are markup: a placeholder such as `<LITELLM_MASTER_KEY>`,
# `<token>` or `<your-key>` stays in the text, also after the search index has collapsed the page's markup.
_ELEMENTS = (
    "a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite code col "
    "colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure footer form h1 "
    "h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label legend li link main map mark menu "
    "meta meter nav noscript object ol optgroup option output p param picture pre progress q rp rt ruby s samp "
    "script search section select slot small source span strong style sub summary sup table tbody td template "
    "textarea tfoot th thead time title tr track u ul var video wbr svg path g use symbol defs circle rect line "
    "polyline polygon ellipse text tspan clippath lineargradient radialgradient stop mask pattern image"
)
_TAG = re.compile(rf"</?(?:{'|'.join(sorted(_ELEMENTS.split(), key=len, reverse=True))})(?:\s[^<>]*)?/?>")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_MAX_ESCAPE_LAYERS = 4

# What a browser shows as text, by extension; a file of another type is sniffed.
_TEXT_SUFFIXES = frozenset(
    [
        ".html",
        ".htm",
        ".xhtml",
        ".js",
        ".mjs",
        ".cjs",
        ".css",
        ".json",
        ".map",
        ".md",
        ".markdown",
        ".txt",
        ".xml",
        ".svg",
        ".webmanifest",
        ".yml",
        ".yaml",
        ".csv",
        ".tsv",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".env",
        ".sh",
        ".bash",
        ".py",
        ".rst",
        ".log",
        ".ts",
        ".tsx",
        ".jsx",
        ".scss",
        ".less",
        ".atom",
        ".rss",
    ]
)
# Binary formats whose bytes are not text; images among them are read for their text chunks below.
_BINARY_SUFFIXES = frozenset(
    [
        ".png",
        ".apng",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".ico",
        ".bmp",
        ".avif",
        ".tif",
        ".tiff",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".pdf",
        ".zip",
        ".wasm",
        ".mp4",
        ".webm",
        ".mp3",
        ".ogg",
        ".wav",
        ".mov",
        ".pyc",
        ".br",
        ".zst",
    ]
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Bytes no text file holds (NUL aside, which some text files carry): C0 controls but tab, newlines, form feed, ESC.
_BINARY_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f]")
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class SiteProblem:
    """A path of the site that could not be read as a file of the site: its reason and what went wrong."""

    path: Path
    reason: str
    """`unreadable` (a directory that cannot be listed, a dangling link, a special file) or `outside_link`."""
    message: str


def _json_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match[1]
        return chr(int(escape[1:], 16)) if escape[0] == "u" else _JSON_SIMPLE[escape]

    return _JSON_ESCAPE.sub(replace, text)


def reader_texts(line: str) -> list[str]:
    """The line as a reader or a crawler sees it: escapes undone, and again without the markup between words.

    A line with percent escapes (`Bearer%20…` in a URL) is also read with them decoded.
    """
    # HTML inside a JSON string inside HTML is common (search index, inline config), so undo layers to a fixpoint.
    text = line
    for _ in range(_MAX_ESCAPE_LAYERS):
        unescaped = html.unescape(_json_unescape(text))
        if unescaped == text:
            break
        text = unescaped
    # Syntax highlighting wraps each token of a code block in its own <span>.
    bare = _TAG.sub("", text) if "<" in text else text
    readings = [text] if bare == text else [text, bare]
    if "%" in text and _PERCENT.search(text):
        for reading in list(readings):
            decoded = unquote(reading)
            if decoded not in readings:
                readings.append(decoded)
    return readings


# An attribute of a tag, but for the ones that style it (`class="nv"` on every token Pygments highlights).
_ATTRIBUTE = re.compile(r"""\s(?!(?:class|style|id)=)[\w:.-]+\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def attribute_texts(line: str) -> str:
    """The values of the line's tag attributes (`href`, `data-clipboard-text`…), escapes undone, one per line.

    reader_texts' second reading drops the markup, attributes and all; these are what it drops.
    """
    if "=" not in line:
        return ""
    text = line
    for _ in range(_MAX_ESCAPE_LAYERS if "\\" in line else 0):  # JSON escapes only: quotes stay HTML entities
        unescaped = _json_unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return "\n".join(html.unescape(a or b) for a, b in _ATTRIBUTE.findall(text) if a or b)


def read_site_file(path: Path) -> bytes:
    """The bytes of one site file, refusing one larger than MAX_FILE_BYTES. Raises OSError."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(f"larger than {MAX_FILE_BYTES // 2**20} MiB, the most the scan reads")
    return data


def _inflate(data: bytes, wbits: int, what: str) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise OSError(f"{what} expands to more than {MAX_TEXT_BYTES // 2**20} MiB (a decompression bomb?)")
    return out


def _gunzip(data: bytes) -> bytes:
    # Every member of a gzip file, as gzip.decompress reads them, each within the cap.
    out = b""
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, MAX_TEXT_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise OSError(f"not a valid gzip file: {exc}") from None
        if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
            raise OSError(f"decompresses to more than {MAX_TEXT_BYTES // 2**20} MiB (a decompression bomb?)")
        if not inflater.eof:
            raise OSError("not a valid gzip file: compressed data ended early")
        data = inflater.unused_data.lstrip(b"\0")
    return out


def _png_text(data: bytes) -> str:
    """The text chunks of a PNG (tEXt, zTXt, iTXt), one per line as `keyword: text`; a broken chunk ends the read."""
    lines = []
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if len(body) < length:
            break  # truncated: what follows is not a chunk a viewer would read
        offset += 12 + length
        keyword, _, rest = body.partition(b"\0")
        if kind == b"tEXt":
            text = rest
        elif kind == b"zTXt":
            text = _inflate(rest[1:], zlib.MAX_WBITS, "a zTXt chunk")
        elif kind == b"iTXt":
            compressed, rest = rest[:1] == b"\1", rest[2:]
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, text = rest.partition(b"\0")  # translated keyword
            if compressed:
                text = _inflate(text, zlib.MAX_WBITS, "an iTXt chunk")
        else:
            if kind == b"IEND":
                break
            continue
        lines.append(keyword.decode("latin-1") + ": " + text.decode("utf-8", errors="replace"))
    return "\n".join(lines)


def _jpeg_text(data: bytes) -> str:
    """The comment and application segments of a JPEG (COM, XMP, EXIF strings), as text."""
    lines = []
    offset = 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker in (0xD9, 0xDA):  # end of image, start of the pixel data
            break
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        segment = data[offset + 4 : offset + 2 + length]
        offset += 2 + length
        if marker == 0xFE or 0xE0 <= marker <= 0xEF:
            lines.append(segment.replace(b"\0", b"\n").decode("utf-8", errors="replace"))
    return "\n".join(lines)


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if b"\0" in data:
        # UTF-16 without a byte-order mark has a NUL in every other byte; other NULs just separate text.
        sample = data[:_SNIFF_BYTES]
        for parity, codec in ((1, "utf-16-le"), (0, "utf-16-be")):
            if sample[parity::2].count(0) > len(sample) // 4:
                return data.decode(codec, errors="replace").replace("\0", "\n")
        data = data.replace(b"\0", b"\n")
    return data.decode("utf-8", errors="replace")


def site_text(path: Path, data: bytes | None = None) -> str | None:
    """The text of one site file (its `data`, if already read), gunzipped if needed; None for binary files.

    Text files are read whole, NUL bytes and all; images are read for their text chunks (PNG tEXt, zTXt and
    iTXt; JPEG comments and metadata); other binary files (fonts, archives) have no text. Raises OSError if the
    file cannot be read, or if it or a chunk of it decompresses to more than MAX_TEXT_BYTES.
    """
    data = read_site_file(path) if data is None else data
    name = path.name
    if path.suffix == ".gz":
        data = _gunzip(data)
        name = path.stem
    suffix = Path(name).suffix.lower()
    if data.startswith(_PNG_SIGNATURE):
        return _png_text(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_text(data)
    if suffix in _TEXT_SUFFIXES:
        return _decode(data)
    if suffix in _BINARY_SUFFIXES or _BINARY_BYTES.search(data[:_SNIFF_BYTES]):
        return None
    return _decode(data)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def site_files(site_dir: Path, problems: list[SiteProblem] | None = None) -> Iterator[Path]:
    """Every regular file of the site, in a stable order.

    Links are not followed: one to a file or directory inside the site is skipped (its target is read where it
    is). What cannot be read as a file of the site (a directory that cannot be listed, a link that leaves the
    site or leads nowhere, a FIFO or device) is added to `problems`; without that list, it raises OSError.
    """
    root = site_dir.resolve()
    files: list[Path] = []
    found: list[SiteProblem] = []
    pending = [site_dir]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            found.append(SiteProblem(directory, "unreadable", f"directory cannot be listed: {exc.strerror or exc}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = path.resolve()
                    if not _inside(target, root):
                        message = f"a symbolic link that leaves the site (to {target}); it is not followed"
                        found.append(SiteProblem(path, "outside_link", message))
                    elif not target.exists():
                        found.append(SiteProblem(path, "unreadable", "a symbolic link to nothing"))
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_file(follow_symlinks=False):
                    files.append(path)
                else:
                    found.append(SiteProblem(path, "unreadable", "not a regular file (a FIFO, socket or device)"))
            except OSError as exc:
                found.append(SiteProblem(path, "unreadable", f"cannot be read: {exc.strerror or exc}"))
    if found and problems is None:
        raise OSError(f"{found[0].path}: {found[0].message}")
    if problems is not None:
        problems.extend(sorted(found, key=lambda problem: problem.path))
    yield from sorted(files)
