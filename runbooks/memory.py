"""What the build and the gates remember between runs, by content: files found clean, what was made of each input.

A built site is mostly the theme's assets and pages that did not change since the last build; what
a gate makes of a file depends only on the file's bytes and on the gate itself (its code, its rules,
the values it looks for), and the words the search makes of a Chinese text only on the text and on
the segmenter. It is kept per user in `$RUNBOOKS_CACHE_DIR`, else `$XDG_CACHE_HOME/runbooks`, else
`~/.cache/runbooks`, one file per user of the memory and key, so a changed gate, env file or
segmenter starts afresh. Of the secret scan only clean verdicts are kept: a file with a finding is
read every time, so every finding is always reported. Where no cache directory can be written,
nothing is remembered between runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

MAX_ENTRIES = 50_000
"""Beyond this many entries (files, inputs) one memory starts afresh."""


def digest(data: bytes) -> str:
    """The content digest a verdict is remembered by."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def cache_dir() -> Path:
    """Where the verdicts are kept."""
    explicit = os.environ.get("RUNBOOKS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "runbooks"


class CleanFiles:
    """The digests of the files one gate, with one key, has found clean."""

    def __init__(self, gate: str, key: str) -> None:
        self._path = cache_dir() / f"{gate}-{digest(key.encode('utf-8'))}.txt"
        try:
            self._known = set(self._path.read_text(encoding="ascii").split())
        except (OSError, UnicodeDecodeError):
            self._known = set()
        self._new: set[str] = set()

    def __contains__(self, file_digest: str) -> bool:
        return file_digest in self._known or file_digest in self._new

    def add(self, file_digest: str) -> None:
        """Remember that a file of this content is clean."""
        if file_digest not in self:
            self._new.add(file_digest)

    def save(self) -> None:
        """Write the new verdicts; a cache that cannot be written is left as it was."""
        if not self._new:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if len(self._known) + len(self._new) > MAX_ENTRIES:
                self._path.write_text("".join(f"{d}\n" for d in sorted(self._new)), encoding="ascii")
            else:
                # One write in append mode: runs that save at the same time add lines, never mix them.
                with self._path.open("a", encoding="ascii") as out:
                    out.write("".join(f"{d}\n" for d in sorted(self._new)))
        except OSError:
            return
        self._known |= self._new
        self._new = set()


def gate_key(*sources: Path, extra: str = "") -> str:
    """A key that changes whenever one of the gate's source files or `extra` (its rules, its values) changes."""
    parts = [path.read_bytes() for path in sources]
    return digest(b"\0".join(parts)) + ":" + extra


class Derived:
    """What one user of the memory (a gate, the search's segmenter) made of each input, as JSON by its digest."""

    def __init__(self, user: str, key: str) -> None:
        self._path = cache_dir() / f"{user}-{digest(key.encode('utf-8'))}.json"
        self._known: dict[str, Any] = self._read()
        self._new: dict[str, Any] = {}

    def _read(self) -> dict[str, Any]:
        """The memory as saved now; empty if there is none or it cannot be read."""
        try:
            known = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return known if isinstance(known, dict) else {}

    def __contains__(self, input_digest: str) -> bool:
        return input_digest in self._new or input_digest in self._known

    def __getitem__(self, input_digest: str) -> Any:
        return self._new[input_digest] if input_digest in self._new else self._known[input_digest]

    def __setitem__(self, input_digest: str, value: Any) -> None:
        self._new[input_digest] = value

    def __len__(self) -> int:
        return len(self._known) + len(self._new)

    def save(self) -> None:
        """Add what was made since it was read to the memory as it is now, replacing the file in one step.

        Runs that save meanwhile (a build's other gate, another build) keep what they added; beyond
        MAX_ENTRIES only this run's entries are kept. A memory that cannot be written is left as it was.
        """
        if not self._new:
            return
        merged = self._read()
        if len(merged) + len(self._new) > MAX_ENTRIES:
            merged = {}
        merged.update(self._new)
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self._path.parent, delete=False) as out:
                json.dump(merged, out, separators=(",", ":"))
            os.replace(out.name, self._path)
        except OSError:
            return
        self._known, self._new = merged, {}
