"""Start the pinned LiteLLM proxy for the live tests, serving a team config with mocked answers."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runbooks.observe.proxy import NEEDS_A_SERVICE, env_references, litellm_process

__all__ = ["NEEDS_A_SERVICE", "ProxyError", "RunningProxy", "env_references", "litellm_proxy", "mock_config"]


class ProxyError(RuntimeError):
    """The config cannot be served by the live test; the message says why."""


def mock_config(source: Path, reply: str) -> dict[str, Any]:
    """The config at `source` with a `mock_response` in every deployment and without `NEEDS_A_SERVICE`.

    Everything else (models, routing, access groups, budgets, the master key's variable) stays as it is.
    """
    config = YAML(typ="safe").load(source.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not config.get("model_list"):
        raise ProxyError(f"{source} has no model_list to serve")
    if "include" in config:
        raise ProxyError(f"{source} includes other files; the live test serves a single-file config only")
    for deployment in config["model_list"]:
        deployment["litellm_params"]["mock_response"] = reply
    general = config.get("general_settings") or {}
    for setting in NEEDS_A_SERVICE:
        general.pop(setting, None)
    return config


@dataclass(frozen=True)
class RunningProxy:
    """A started proxy: where it listens, its master key, the reply every model gives, and its process."""

    url: str
    master_key: str
    reply: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def litellm_proxy(config_source: Path, workdir: Path) -> Iterator[RunningProxy]:
    """Start the pinned LiteLLM proxy on a free port with a mock config; stop its process group on exit."""
    reply = f"mock reply {secrets.token_hex(4)}"
    with litellm_process(mock_config(config_source, reply), workdir) as started:
        yield RunningProxy(started.url, started.master_key, reply, started.process, started.log)
