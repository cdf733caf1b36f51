"""MkDocs adapter for `mkdocs serve`: each rebuild replaces the served site only once it has succeeded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.livereload import LiveReloadServer

from runbooks import publish

log = logging.getLogger("mkdocs.hooks.serving")

# -------------------------------------------------------------------------------------------------
# Hooks
# -------------------------------------------------------------------------------------------------

# MkDocs 1.6.1's server holds every request while the version it wants to show is newer than the one it
# shows, and a failed rebuild leaves it so until a rebuild succeeds: pages stop loading. A build that
# fails after cleaning the site directory also leaves half a site. So after the first build, each
# rebuild writes into a work directory beside the served site and is switched in, in one atomic step,
# only once it has succeeded. Meanwhile the served site is whole, so requests need not wait: the
# server is told to show what it has, and the new version once it is in place (browsers reload then).


def on_startup(*, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
    """Note whether `mkdocs serve --dirty` rebuilds only what changed, into the served site."""
    _SERVING.dirty = dirty


def on_serve(server: LiveReloadServer, config: MkDocsConfig, builder: Callable[..., None]) -> LiveReloadServer:
    """Make each rebuild of `mkdocs serve` replace the served site only if it succeeds, and never hold requests."""
    rebuild, served = server.builder, Path(server.root)
    logging.getLogger("mkdocs.livereload").addFilter(_no_false_reload)

    def build_or_keep() -> None:
        work = None
        if not _SERVING.dirty:  # a dirty rebuild writes only what changed: into the served site, as MkDocs does
            try:
                work = publish.WorkDir.create(served.parent, served.name)
            except OSError as exc:
                log.warning("rebuilding in place: no work directory beside the site (%s)", publish.describe(exc))
        _SERVING.next = work.path / served.name if work else None
        new_version = _want_version(server, None) if work else None  # serve the whole old site while building
        try:
            rebuild()
            if work:
                publish.switch(work.path / served.name, served, work.path / publish.PREVIOUS)
            if new_version is not None:
                _want_version(server, new_version)
        except (Exception, SystemExit) as exc:  # MkDocs aborts with SystemExit after logging the build's error
            if not isinstance(exc, SystemExit):
                log.error("the rebuild failed: %s", exc, exc_info=not isinstance(exc, OSError))
            if _want_version(server, None) is not None:
                _SERVING.quiet_reload = True
            log.error("not rebuilt: the last good version stays served; it updates once the error above is fixed")
        finally:
            _SERVING.next = None
            if work:
                work.remove()

    server.builder = build_or_keep
    return server


def on_pre_build(config: MkDocsConfig) -> None:
    """In a rebuild of `mkdocs serve`, write the site into the work directory that replaces the served one."""
    if _SERVING.next is not None:
        config.site_dir = str(_SERVING.next)


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------


def _want_version(server: LiveReloadServer, version: int | None) -> int | None:
    """Make the server show `version` (None: the one it shows now); return the version it wanted before.

    Requests wait while the wanted version is ahead of the shown one; browsers reload when the shown
    one moves on. None, and nothing done, on a server without these (another MkDocs than 1.6).
    """
    condition = getattr(server, "_epoch_cond", None)
    if condition is None or not hasattr(server, "_visible_epoch") or not hasattr(server, "_wanted_epoch"):
        return None
    with condition:
        before = server._wanted_epoch
        server._wanted_epoch = server._visible_epoch if version is None else version
        condition.notify_all()
    return before


def _no_false_reload(record: logging.LogRecord) -> bool:
    """Drop the server's "Reloading browsers" after a failed rebuild: no browser reloads then."""
    if _SERVING.quiet_reload and record.getMessage().endswith("Reloading browsers"):
        _SERVING.quiet_reload = False
        return False
    return True


# -------------------------------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------------------------------


@dataclass
class _Serving:
    dirty: bool = False
    next: Path | None = None
    """Where the rebuild under way writes the site, until it replaces the served one."""
    quiet_reload: bool = False


_SERVING = _Serving()
