"""Where Jinja keeps compiled templates between runs, ours and the theme's: a private per-user directory."""

from __future__ import annotations

import functools

import jinja2
import jinja2.bccache


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
