"""Observe every documented error through the real LiteLLM proxy and record what members and operators see.

`make observe` (`python -m runbooks observe`, in .venv-litellm) starts a fake provider on 127.0.0.1 that
answers with each error entry's documented response, starts the pinned proxy with the team's config (its base
URLs on the fake), sends each entry's request as a member does — the after-recharge page's curl command and
the OpenAI Python SDK with its defaults — and writes what came back, the proxy's log lines and the number of
requests that reached the provider to data/observations.yaml. `--check` writes nothing and reports every
entry whose fresh observation differs from the committed one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runbooks.findings import Finding, Unreadable
from runbooks.loader import Dataset, line_of, read_yaml
from runbooks.observe.proxy import Proxy, free_port, running_proxy
from runbooks.observe.upstream import FakeUpstream, Reply, completion
from runbooks.render import smoke_test_command
from runbooks.rules import replay_digest
from runbooks.schema import (
    OBSERVATIONS_FILE,
    ObservationsFile,
    Provider,
    ProxyError,
    TeamFile,
    Tier,
    observation_key,
)

CURL_LIMIT_S = 120
LOG_SETTLE_S = 0.6
"""How long the proxy may take to write the log lines of a request it has answered."""
RPM_BURST_LIMIT = 3
"""The rate-limit scenario sends at most this many times a deployment's rpm before giving up."""
COOLING_STATUSES = {401, 403}
"""Provider answers after which the pinned LiteLLM cools a model's only deployment down (seen by `make observe`)."""
COOLDOWN_WAIT_S = 6.5
"""Longer than the cooldown (DEFAULT_COOLDOWN_TIME_SECONDS, 5 s in the pinned LiteLLM)."""

HEADER = """\
# What the team's LiteLLM proxy does with every documented error, observed through the real proxy.
# Written by `make observe` (python -m runbooks observe); do not edit by hand. `make verify-live` observes
# again and fails where LiteLLM now behaves differently. Times, ids, ports and keys are replaced by <...>.
"""


def litellm_version() -> str:
    """The version of the installed litellm package: the one being observed."""
    try:
        return version("litellm")
    except PackageNotFoundError:
        raise Unreadable(
            [Finding("no_proxy", "litellm is not installed here; run `make observe`, which uses .venv-litellm")]
        ) from None


def observe(dataset: Dataset, config: Path, *, on_entry: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Observe every error entry of `dataset` through the pinned proxy serving `config`; the observations file."""
    found: dict[str, dict[str, Any]] = {}
    _stop_cleanly_on_sigterm()
    providers = dataset.providers.providers
    proxy_errors = dataset.proxy_errors.errors if dataset.proxy_errors else []
    tiers = {t.id: t for t in dataset.team.cost_control.tiers}
    with tempfile.TemporaryDirectory(prefix="runbooks-observe-") as tmp, FakeUpstream() as fake:
        work = Path(tmp)
        with running_proxy(config, fake, work) as proxy:
            member = Member(proxy, dataset.team, work)
            for pid, provider in providers.items():
                for err in provider.errors:
                    if err.status is None or err.body is None:
                        continue
                    key = observation_key(pid, err.code)
                    if on_entry:
                        on_entry(key)
                    found[key] = _provider_error(member, fake, provider, tiers, err.status, err.body)
            by_scenario = {perr.scenario: perr for perr in proxy_errors if perr.scenario}
            # The rate-limit scenario uses up a deployment's minute, so it comes last.
            for scenario in sorted(by_scenario, key=lambda s: s == "deployment_rpm"):
                perr = by_scenario[scenario]
                key = observation_key("proxy", perr.id)
                if on_entry:
                    on_entry(key)
                found[key] = SCENARIOS[scenario](member, fake, dataset, perr)
            changed = proxy.changed
    return {
        "litellm": litellm_version(),
        "observed_on": dt.date.today(),
        "config": _display(config),
        "changed": changed,
        "errors": found,
    }


def write_observations(observations: dict[str, Any], path: Path) -> None:
    """Write the observations file, validated first, with its header."""
    ObservationsFile.model_validate(observations)
    yaml = YAML()
    yaml.width = 4096
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        yaml.dump(_plain(observations), out)


def compare(committed: Path, fresh: dict[str, Any], name: str = OBSERVATIONS_FILE) -> list[Finding]:
    """Every entry whose fresh observation differs from the committed one, located in the committed file."""
    tree = read_yaml(committed, name)
    old = ObservationsFile.model_validate(_plain(dict(tree))).model_dump(mode="json")
    new = ObservationsFile.model_validate(fresh).model_dump(mode="json")
    findings = []
    if old["litellm"] != new["litellm"]:
        findings.append(
            Finding(
                "observed_other_version",
                f"observed with LiteLLM {old['litellm']}, now {new['litellm']} is installed; run `make observe` "
                "after checking what changed",
                name,
                line_of(tree, ("litellm",)),
            )
        )
    for key in sorted(set(old["errors"]) | set(new["errors"])):
        before, now = old["errors"].get(key), new["errors"].get(key)
        if before == now:
            continue
        if before is None or now is None:
            what = "is observed now but not committed" if before is None else "is committed but no longer observed"
            findings.append(Finding("observation_changed", f"'{key}' {what}", name, line_of(tree, ("errors",))))
            continue
        for field, old_value, new_value in _differences(before, now):
            findings.append(
                Finding(
                    "observation_changed",
                    f"'{key}': {field} was {old_value!r}, LiteLLM {new['litellm']} now gives {new_value!r}",
                    name,
                    line_of(tree, ("errors", key, *re.split(r"[.\[]", field)[:1])),
                    context={"entry": key, "field": field},
                )
            )
    return findings


# --- How a member asks -------------------------------------------------------------------------------


class Member:
    """Sends requests to the proxy as a member does: the page's curl command, the OpenAI SDK, or plain HTTP."""

    def __init__(self, proxy: Proxy, team: TeamFile, work: Path) -> None:
        self.proxy = proxy
        server = team.server.model_copy(update={"proxy_url": proxy.url})
        self.team = team.model_copy(update={"server": server})
        self.key_env = team.server.master_key_env
        self.work = work
        self.curl_home = work / "curl-home"
        self.curl_home.mkdir(exist_ok=True)
        (self.curl_home / ".curlrc").write_text(
            'write-out = "%{stderr}HTTP %{http_code}"\nmax-time = 60\n', encoding="utf-8"
        )

    def curl(self, model: str, key: str, url: str | None = None) -> dict[str, Any]:
        """Run the after-recharge page's curl command for `model` with `key` as the master key variable."""
        command = smoke_test_command(self.team, model)
        if url is not None:
            command = command.replace(self.proxy.url, url)
        env = {"PATH": _path(), "HOME": str(self.curl_home), "CURL_HOME": str(self.curl_home), self.key_env: key}
        env["NO_PROXY"] = "127.0.0.1,localhost"
        result = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=CURL_LIMIT_S, check=False
        )
        status = re.search(r"HTTP (\d{3})$", result.stderr.strip())
        code = int(status.group(1)) if status else 0
        saw: dict[str, Any] = {"curl_exit": result.returncode}
        if code:
            saw["status"] = code
        try:
            error = json.loads(result.stdout).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        if isinstance(error, dict) and error:
            saw.update(type=_text(error.get("type")), code=_text(error.get("code")))
            saw["message"] = str(error.get("message", ""))
        else:
            stderr = re.sub(r"HTTP \d{3}$", "", result.stderr.strip()).strip()
            saw["message"] = result.stdout.strip() or stderr
        return {k: v for k, v in saw.items() if v is not None}

    def sdk(self, model: str, key: str, url: str | None = None) -> dict[str, Any]:
        """Ask for a completion with the OpenAI Python SDK, default settings (it retries some errors itself)."""
        import openai

        client = openai.OpenAI(base_url=f"{url or self.proxy.url}/v1", api_key=key or "none")
        try:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "ping"}])
        except openai.APIStatusError as exc:
            return {"exception": f"openai.{type(exc).__name__}", "status": exc.status_code}
        except openai.APIError as exc:
            return {"exception": f"openai.{type(exc).__name__}", "message": self.clean(str(exc))}
        return {"exception": "none"}

    def post(self, model: str, key: str) -> int:
        """One chat completion by plain HTTP; its status."""
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "ping"}]}).encode()
        request = urllib.request.Request(
            f"{self.proxy.url}/v1/chat/completions",
            data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def get(self, path: str, url: str | None = None) -> str:
        """What `GET path` answers: `200 <body>`, or why nothing answered."""
        try:
            with urllib.request.urlopen(f"{url or self.proxy.url}{path}", timeout=10) as response:
                return f"{response.status} {response.read().decode('utf-8', errors='replace').strip()}"
        except urllib.error.HTTPError as exc:
            return f"{exc.code} {exc.read().decode('utf-8', errors='replace').strip()}"
        except (urllib.error.URLError, ConnectionError) as exc:
            return f"no answer: {getattr(exc, 'reason', exc)}"

    def clean(self, text: str) -> str:
        """`text` without anything that changes from run to run, and without any key the proxy was given."""
        return normalize(text, self.proxy.secrets)

    def watch(self, send: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
        """Run `send` and return its result with the proxy's log lines for it."""
        start = self.proxy.log_size()
        saw = send()
        time.sleep(LOG_SETTLE_S)
        return saw, log_lines(self.clean(self.proxy.log_since(start)))


def _provider_error(
    member: Member, fake: FakeUpstream, provider: Provider, tiers: dict[str, Tier], status: int, body: str
) -> dict[str, Any]:
    prefix = provider.litellm_prefix
    model = _everyday_model(provider, tiers)
    fake.answer(prefix, Reply(status, body.encode("utf-8")))
    fake.reset()
    saw, log = member.watch(lambda: member.curl(model, member.proxy.master_key))
    attempts = fake.hits(prefix)
    fake.reset()
    sdk = member.sdk(model, member.proxy.master_key)
    sdk["attempts"] = fake.hits(prefix)
    if {saw.get("status"), sdk.get("status")} & COOLING_STATUSES:
        # LiteLLM cools the model's deployment down after this; the next entry must not see the cooldown.
        time.sleep(COOLDOWN_WAIT_S)
    return {
        "replayed": replay_digest(status, body),
        "attempts": attempts,
        "member": _cleaned(member, saw),
        "sdk": sdk,
        "log": log,
    }


def _everyday_model(provider: Provider, tiers: dict[str, Tier]) -> str:
    """The provider's first model of a tier without rate limits, so that errors do not use up a limited one."""
    unlimited = [m.name for m in provider.models if m.tier in tiers and tiers[m.tier].limits is None]
    return (unlimited or [provider.models[0].name])[0]


# --- The proxy's own errors --------------------------------------------------------------------------


def _unknown_key(member: Member, fake: FakeUpstream, dataset: Dataset, perr: ProxyError) -> dict[str, Any]:
    """A member's request with a virtual key the proxy never issued."""
    model = dataset.team.server.smoke_test_model
    key = "sk-" + "0123456789abcdef" * 2
    member.proxy.secrets.append(key)
    fake.reset()
    saw, log = member.watch(lambda: member.curl(model, key))
    sdk = member.sdk(model, key)
    return {"attempts": fake.hits(), "member": _cleaned(member, saw), "sdk": sdk, "log": log}


def _cooldown_after_auth_error(
    member: Member, fake: FakeUpstream, dataset: Dataset, perr: ProxyError
) -> dict[str, Any]:
    """The smoke-test model's provider refuses its key (401) once; then the page's command once more."""
    model = dataset.team.server.smoke_test_model
    provider = next(p for p in dataset.providers.providers.values() if any(m.name == model for m in p.models))
    refused = next(e for e in provider.errors if e.member_status == 401 and e.status is not None and e.body)
    assert refused.status is not None and refused.body is not None
    fake.answer(provider.litellm_prefix, Reply(refused.status, refused.body.encode("utf-8")))
    member.curl(model, member.proxy.master_key)
    fake.reset()
    saw, log = member.watch(lambda: member.curl(model, member.proxy.master_key))
    attempts = fake.hits()
    time.sleep(COOLDOWN_WAIT_S)
    return {"attempts": attempts, "member": _cleaned(member, saw), "log": log}


def _unknown_model(member: Member, fake: FakeUpstream, dataset: Dataset, perr: ProxyError) -> dict[str, Any]:
    """The smoke test naming a model by its upstream id instead of the name the proxy serves."""
    names = {m.name for p in dataset.providers.providers.values() for m in p.models}
    model = next(m.upstream for p in dataset.providers.providers.values() for m in p.models if m.upstream not in names)
    fake.reset()
    saw, log = member.watch(lambda: member.curl(model, member.proxy.master_key))
    sdk = member.sdk(model, member.proxy.master_key)
    return {"attempts": fake.hits(), "member": _cleaned(member, saw), "sdk": sdk, "log": log}


def _deployment_rpm(member: Member, fake: FakeUpstream, dataset: Dataset, perr: ProxyError) -> dict[str, Any]:
    """More requests in one minute than an expensive deployment's rpm allows, then the page's command once more."""
    tiers = {t.id: t for t in dataset.team.cost_control.tiers}
    provider, model = next(
        (p, m) for p in dataset.providers.providers.values() for m in p.models if tiers[m.tier].limits is not None
    )
    limits = tiers[model.tier].limits
    assert limits is not None
    fake.answer(provider.litellm_prefix, completion(model.upstream))
    # Start early in a minute so that the whole burst is counted in one.
    if dt.datetime.now().second > 40:
        time.sleep(61 - dt.datetime.now().second)
    for _ in range(limits.rpm * RPM_BURST_LIMIT):
        if member.post(model.name, member.proxy.master_key) != 200:
            break
    fake.reset()
    saw, log = member.watch(lambda: member.curl(model.name, member.proxy.master_key))
    return {"attempts": fake.hits(), "member": _cleaned(member, saw), "log": log}


def _budget_without_database(member: Member, fake: FakeUpstream, dataset: Dataset, perr: ProxyError) -> dict[str, Any]:
    """What the proxy says about `max_budget` when it starts without a database: its start-up log."""
    startup = member.clean(member.proxy.log_since(0))
    lines = [line for line in log_lines(startup) if "budget" in line.lower()]
    return {"log": lines}


def _proxy_down(member: Member, fake: FakeUpstream, dataset: Dataset, perr: ProxyError) -> dict[str, Any]:
    """The page's command against a port nothing listens on, and the health checks of a running and a stopped proxy."""
    model = dataset.team.server.smoke_test_model
    down = f"http://127.0.0.1:{free_port()}"
    saw = member.curl(model, member.proxy.master_key, url=down)
    sdk = member.sdk(model, member.proxy.master_key, url=down)
    health = {
        "running /health/liveliness": member.get("/health/liveliness"),
        "running /health/readiness": member.get("/health/readiness"),
        "stopped /health/liveliness": member.get("/health/liveliness", url=down),
    }
    return {
        "member": _cleaned(member, saw),
        "sdk": sdk,
        "health": {k: member.clean(v) for k, v in health.items()},
    }


SCENARIOS: dict[str, Callable[[Member, FakeUpstream, Dataset, ProxyError], dict[str, Any]]] = {
    "unknown_key": _unknown_key,
    "cooldown_after_auth_error": _cooldown_after_auth_error,
    "unknown_model": _unknown_model,
    "deployment_rpm": _deployment_rpm,
    "budget_without_database": _budget_without_database,
    "proxy_down": _proxy_down,
}
"""Every ProxyScenario of runbooks/schema.py and how it is provoked."""


# --- What is kept of the output ----------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_REPLACEMENTS = (
    (re.compile(r"^\d{2}:\d{2}:\d{2} - ", re.MULTILINE), ""),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{32,}\b"), "<hash>"),
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:<port>"),
    (re.compile(r"\bport \d+"), "port <port>"),
    (re.compile(r"\bafter \d+ ms\b"), "after <n> ms"),
    # LiteLLM's bug-report link carries the machine's Python version and deployment guess.
    (re.compile(r"https://github\.com/BerriAI/litellm/issues/new\?\S+"), "<bug report link>"),
)
_KEPT = re.compile(
    r"LiteLLM( Proxy| Router)?:(ERROR|WARNING)|LiteLLM Retried|\"(POST|GET) /[^\"]*\" \d{3}|Exception occured"
)
_NOT_KEPT = re.compile(r"prisma|trusted_proxy_ranges|model cost map|Failed to fetch remote", re.IGNORECASE)


def normalize(text: str, secrets: list[str] | None = None) -> str:
    """`text` with colours, times, ids, hashes and ports replaced, and every given secret hidden."""
    for secret in sorted(secrets or [], key=len, reverse=True):
        text = text.replace(secret, "<key>")
    text = _ANSI.sub("", text)
    for pattern, replacement in _REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return text


def log_lines(text: str) -> list[str]:
    """The lines of a proxy log an operator reads for a failed request: errors, warnings, retries, the access line."""
    return [line.strip() for line in text.splitlines() if _KEPT.search(line) and not _NOT_KEPT.search(line)]


def _cleaned(member: Member, saw: dict[str, Any]) -> dict[str, Any]:
    return {k: member.clean(v) if isinstance(v, str) else v for k, v in saw.items()}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new), key=str):
            out += _differences(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for n, (o, w) in enumerate(zip(old, new, strict=True)) for d in _differences(o, w, f"{prefix}[{n}]")]
    return [] if old == new else [(prefix, old, new)]


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _stop_cleanly_on_sigterm() -> None:
    """Let a SIGTERM end the observation through its `finally` blocks, so that the proxy is stopped too."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))


def _path() -> str:
    return os.environ.get("PATH", "/usr/bin:/bin")
