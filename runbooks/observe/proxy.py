"""The pinned LiteLLM proxy on a free loopback port, serving the team's config with its base URLs on the fake."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runbooks.findings import Finding, Unreadable
from runbooks.observe.upstream import BASE_PATHS, FakeUpstream

STARTUP_LIMIT_S = 120.0
STOP_LIMIT_S = 15.0
ENV_PREFIX = "os.environ/"
NEEDS_A_SERVICE = {
    "database_url": "a PostgreSQL database (virtual keys, spend logs)",
    "alerting": "a Slack webhook",
}
"""Settings of `general_settings` an observation leaves out: each needs a service that is not on this machine."""


@dataclass
class Proxy:
    """A running proxy: its address, the master key it was started with, its log, and what was changed."""

    url: str
    master_key: str
    log: Path
    changed: list[str]
    secrets: list[str] = field(default_factory=list)
    """Every key value the proxy was started with, so that none of them is ever written down."""

    def log_size(self) -> int:
        """How far the log has grown, to read what one request added."""
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        """The log written after `offset`."""
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")


def litellm_executable() -> Path:
    """The `litellm` command beside the running Python, i.e. the pinned proxy in .venv-litellm."""
    path = Path(sys.executable).parent / "litellm"
    if not path.is_file():
        raise Unreadable(
            [
                Finding(
                    "no_proxy",
                    f"{path} does not exist: observing needs the pinned LiteLLM proxy (requirements-litellm.txt); "
                    "run `make observe`, which installs it into .venv-litellm",
                )
            ]
        )
    return path


def observed_config(source: Path, fake: FakeUpstream) -> tuple[dict[str, Any], list[str]]:
    """The team's config with every deployment's api_base on the fake and without what needs another service.

    Returns the config and a description of each change; nothing else is touched.
    """
    try:
        config = YAML(typ="safe").load(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unreadable([Finding("parse_error", f"cannot be read: {exc}", str(source))]) from None
    if not isinstance(config, dict) or not isinstance(config.get("model_list"), list) or "include" in config:
        raise Unreadable([Finding("parse_error", "needs a model_list and no include: to be observed", str(source))])
    prefixes: set[str] = set()
    for deployment in config["model_list"]:
        params = deployment.get("litellm_params") or {}
        prefix = str(params.get("model", "")).split("/", 1)[0]
        if prefix not in BASE_PATHS:
            raise Unreadable(
                [Finding("parse_error", f"cannot observe a deployment of '{params.get('model')}'", str(source))]
            )
        params["api_base"] = fake.api_base(prefix)
        prefixes.add(prefix)
    changed = [f"litellm_params.api_base of every {p}/ deployment: the fake provider" for p in sorted(prefixes)]
    general = config.get("general_settings") or {}
    for setting, service in NEEDS_A_SERVICE.items():
        if general.pop(setting, None) is not None:
            changed.append(f"general_settings.{setting} left out: it needs {service}")
    return config, changed


def env_references(node: Any) -> set[str]:
    """Every environment variable a LiteLLM config reads through `os.environ/NAME`."""
    if isinstance(node, str):
        return {node.removeprefix(ENV_PREFIX)} if node.startswith(ENV_PREFIX) else set()
    if isinstance(node, dict):
        return {name for value in node.values() for name in env_references(value)}
    if isinstance(node, list):
        return {name for value in node for name in env_references(value)}
    return set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Started:
    """A proxy process just started: where it listens, its master key, the fake keys it holds, and its log."""

    url: str
    master_key: str
    keys: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def litellm_process(config: dict[str, Any], workdir: Path) -> Iterator[Started]:
    """Start the pinned proxy with `config` on a free loopback port; stop it and every worker it forked on exit.

    Every variable the config reads gets a fake value made for this run, the master key too, so no
    real key is ever in the proxy's environment; the process starts with a minimal environment.
    """
    master_key = "sk-" + secrets.token_hex(16)
    env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TZ") if name in os.environ}
    keys = {name: f"fake-{name.lower()}-{secrets.token_hex(8)}" for name in env_references(config)}
    env.update(keys)
    env.update(
        HOME=str(workdir),
        LITELLM_MASTER_KEY=master_key,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        NO_PROXY="127.0.0.1,localhost",
    )
    config_file = workdir / "config.yaml"
    yaml = YAML()
    yaml.default_flow_style = False
    with config_file.open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "proxy.log"
    command = [str(litellm_executable()), "--config", str(config_file), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as log_out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log_out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_alive(url, process, log)
        yield Started(url, master_key, keys, process, log)
    finally:
        _stop(process)


@contextmanager
def running_proxy(source: Path, fake: FakeUpstream, workdir: Path) -> Iterator[Proxy]:
    """Start the pinned proxy with the observed config of `source`; stop it and its workers on exit."""
    config, changed = observed_config(source, fake)
    with litellm_process(config, workdir) as started:
        yield Proxy(started.url, started.master_key, started.log, changed, [started.master_key, *started.keys.values()])


def _wait_until_alive(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unreadable([Finding("no_proxy", f"the proxy exited with code {process.returncode}:\n{_tail(log)}")])
        try:
            with urllib.request.urlopen(f"{url}/health/liveliness", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise Unreadable([Finding("no_proxy", f"the proxy did not answer within {STARTUP_LIMIT_S:.0f} s:\n{_tail(log)}")])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the proxy and every process it started (it runs in a session of its own)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else "(no output)"
    return "\n".join(text.splitlines()[-lines:])
