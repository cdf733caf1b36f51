"""A real LiteLLM proxy on 127.0.0.1 whose every deployment answers with a mock reply: no network, no real key."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ENV_PREFIX = "os.environ/"
STARTUP_LIMIT_S = 90.0
"""How long the proxy may take to answer /health/liveliness (it usually needs about ten seconds)."""
STOP_LIMIT_S = 15.0
NEEDS_A_SERVICE = {
    "database_url": "a PostgreSQL database (virtual keys, spend logs)",
    "alerting": "a Slack webhook",
}
"""Settings of `general_settings` the live test leaves out: each needs a service that is not on 127.0.0.1."""


class ProxyError(RuntimeError):
    """The proxy could not be started; the message says why and ends with its log."""


def litellm_executable() -> Path:
    """The `litellm` command of the environment running the tests, i.e. the pinned proxy in .venv-litellm."""
    path = Path(sys.executable).parent / "litellm"
    if not path.is_file():
        raise ProxyError(
            f"{path} does not exist: the live tests need the pinned LiteLLM proxy (requirements-litellm.txt); "
            "run them with `make verify-live`, which installs it into .venv-litellm"
        )
    return path


def env_references(node: Any) -> set[str]:
    """Every environment variable a LiteLLM config reads through `os.environ/NAME`."""
    if isinstance(node, str):
        return {node.removeprefix(ENV_PREFIX)} if node.startswith(ENV_PREFIX) else set()
    if isinstance(node, dict):
        return {name for value in node.values() for name in env_references(value)}
    if isinstance(node, list):
        return {name for value in node for name in env_references(value)}
    return set()


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    config = mock_config(config_source, reply)
    master_key = "sk-" + secrets.token_hex(16)
    env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TZ") if name in os.environ}
    env.update({name: f"fake-{name.lower()}-{secrets.token_hex(8)}" for name in env_references(config)})
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
        yield RunningProxy(url, master_key, reply, process, log)
    finally:
        _stop(process)


def _wait_until_alive(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProxyError(f"the proxy exited with code {process.returncode} while starting:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/health/liveliness", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise ProxyError(f"the proxy did not answer {url}/health/liveliness within {STARTUP_LIMIT_S:.0f} s:\n{_tail(log)}")


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
    # Workers the proxy forked may outlive it; the group id is the proxy's pid.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else "(no output)"
    return "\n".join(text.splitlines()[-lines:])
