"""Who a build is for, and the URL a site is built for unless told otherwise."""

from __future__ import annotations

from typing import Literal

Audience = Literal["internal", "public"]
AUDIENCES: tuple[Audience, ...] = ("internal", "public")
"""Who a build is for: the team (every fact, not for indexing) or the world (public facts only)."""

DEFAULT_SITE_URL = "http://127.0.0.1:8000/"
"""The URL a site is built for unless SITE_URL says otherwise: the local preview of `make serve`."""
