"""The rules that span records or files of the data: unique ids, known tiers, own domains, a current price snapshot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

from runbooks.findings import Finding
from runbooks.findings import YamlPath as Path
from runbooks.schema import (
    OBSERVE,
    PRICES_FILE,
    SYNC_PRICES,
    Faq,
    Observation,
    ObservationsFile,
    PricesFile,
    Provider,
    ProvidersFile,
    ProxyErrorsFile,
    TeamFile,
    observation_key,
)


def _broken(file: str, path: Path, message: str, reason: str = "invalid_data") -> Finding:
    """A broken rule in data file `file` ("providers", "team", "prices") at `path`; the loader adds its line."""
    return Finding(reason, message, file, path=path)


def cross_rules(providers: ProvidersFile, team: TeamFile) -> Iterator[Finding]:
    """Yield every rule the two files break together; an empty result means the data is coherent."""
    yield from _unique_ids(team)
    tier_ids = [t.id for t in team.cost_control.tiers]
    model_owner: dict[str, str] = {}
    faq_owner: dict[str, Path] = {}
    for n, faq in enumerate(team.faqs):
        faq_owner.setdefault(faq.id, ("faqs", n))
    prefixes: dict[str, str] = {}
    env_vars: dict[str, str] = {}
    for pid, p in providers.providers.items():
        base: Path = ("providers", pid)
        if p.litellm_prefix in prefixes:
            yield _broken(
                "providers",
                (*base, "litellm_prefix"),
                (f"'{p.litellm_prefix}' is already the prefix of provider '{prefixes[p.litellm_prefix]}'"),
            )
        prefixes.setdefault(p.litellm_prefix, pid)
        if p.env_var in env_vars:
            yield _broken(
                "providers", (*base, "env_var"), f"'{p.env_var}' is already used by provider '{env_vars[p.env_var]}'"
            )
        env_vars.setdefault(p.env_var, pid)
        for kind, url in off_domain_urls(p):
            yield _broken(
                "providers",
                (*base, "urls", kind),
                f"host '{host_of(url)}' is not one of this provider's domains ({', '.join(p.domains)}); "
                "people type card numbers after following this link",
                reason="payment_link",
            )
        for n, model in enumerate(p.models):
            if model.name in model_owner:
                yield _broken(
                    "providers",
                    (*base, "models", n, "name"),
                    (f"model '{model.name}' is already documented under provider '{model_owner[model.name]}'"),
                )
            model_owner.setdefault(model.name, pid)
            if model.tier not in tier_ids:
                yield _broken(
                    "providers",
                    (*base, "models", n, "tier"),
                    (f"unknown tier '{model.tier}'; data/team.yaml defines: {', '.join(tier_ids)}"),
                )
        for n, faq in enumerate(p.faqs):
            if faq.id in faq_owner:
                yield _broken("providers", (*base, "faqs", n, "id"), f"FAQ id '{faq.id}' is used twice")
            faq_owner.setdefault(faq.id, (*base, "faqs", n))
        seen_codes: set[str] = set()
        for n, err in enumerate(p.errors):
            if err.code in seen_codes:
                yield _broken("providers", (*base, "errors", n, "code"), f"error code '{err.code}' is listed twice")
            seen_codes.add(err.code)
    pids = list(providers.providers)
    for pid, p in providers.providers.items():
        for n, faq in enumerate(p.faqs):
            yield from _related("providers", ("providers", pid, "faqs", n), faq, faq_owner, pids)
    for n, faq in enumerate(team.faqs):
        yield from _related("team", ("faqs", n), faq, faq_owner, pids)
    if team.server.smoke_test_model not in model_owner:
        yield _broken(
            "team",
            ("server", "smoke_test_model"),
            (f"'{team.server.smoke_test_model}' is not a documented model; pick one from data/providers.yaml"),
        )
    yield from _platform_rules(providers)
    yield from _group_rules(team, model_owner)


def _platform_rules(providers: ProvidersFile) -> Iterator[Finding]:
    """The key platform's API base is one of the provider's api_hosts; it comes with LiteLLM's own default."""
    for pid, p in providers.providers.items():
        base: Path = ("providers", pid)
        if p.key_platform is not None and host_of(p.key_platform.api_base) not in p.api_hosts:
            yield _broken(
                "providers",
                (*base, "key_platform", "api_base"),
                f"host '{host_of(p.key_platform.api_base)}' is not one of api_hosts ({', '.join(p.api_hosts)}); "
                "the keys only work on their platform's API",
            )
        if (p.key_platform is None) != (p.litellm_api_base is None):
            missing = "key_platform" if p.key_platform is None else "litellm_api_base"
            yield _broken(
                "providers",
                (*base, "litellm_api_base" if p.litellm_api_base is not None else "key_platform"),
                f"key_platform and litellm_api_base go together (where the keys work, where LiteLLM sends requests "
                f"without an api_base); add {missing}",
            )


def _group_rules(team: TeamFile, model_owner: dict[str, str]) -> Iterator[Finding]:
    """Model groups: a name of their own, used once, and members that are documented models, each once."""
    names: set[str] = set()
    for n, group in enumerate(team.model_groups):
        at: Path = ("model_groups", n)
        if group.name in model_owner:
            yield _broken(
                "team",
                (*at, "name"),
                f"'{group.name}' is already a model of provider '{model_owner[group.name]}'; a group needs a name "
                "of its own",
            )
        if group.name in names:
            yield _broken("team", (*at, "name"), f"model group '{group.name}' is defined twice")
        names.add(group.name)
        seen: set[str] = set()
        for m, member in enumerate(group.members):
            if member not in model_owner:
                yield _broken(
                    "team",
                    (*at, "members", m),
                    f"'{member}' is not a documented model; a group's members are model names from data/providers.yaml",
                )
            elif member in seen:
                yield _broken("team", (*at, "members", m), f"'{member}' is listed twice in this group")
            seen.add(member)


def _unique_ids(team: TeamFile) -> Iterator[Finding]:
    for field in ("after_recharge", "roles"):
        seen: set[str] = set()
        for n, item in enumerate(getattr(team, field)):
            if item.id in seen:
                yield _broken("team", (field, n, "id"), f"id '{item.id}' is used twice in {field}")
            seen.add(item.id)
    for field in ("tiers", "controls"):
        seen = set()
        for n, item in enumerate(getattr(team.cost_control, field)):
            if item.id in seen:
                yield _broken("team", ("cost_control", field, n, "id"), f"id '{item.id}' is used twice in {field}")
            seen.add(item.id)


FAQ_SECTION_ANCHORS = ("general", "providers")
"""Anchors of the FAQ page's own sections (besides one per provider id), which no FAQ id may take."""

PROVIDER_SECTION_ANCHORS = ("facts", "models", "recharge", "payment-notes", "errors", "faq")
"""Anchors of a provider page's sections, which no FAQ id may take: a large site answers FAQs there."""


def _related(file: str, path: Path, faq: Faq, known: dict[str, Path], pids: list[str]) -> Iterator[Finding]:
    if faq.id in pids or faq.id in FAQ_SECTION_ANCHORS:
        yield _broken(
            file, (*path, "id"), f"'{faq.id}' is already the anchor of a section of the FAQ page; pick another id"
        )
    elif faq.id in PROVIDER_SECTION_ANCHORS:
        yield _broken(
            file, (*path, "id"), f"'{faq.id}' is already the anchor of a section of provider pages; pick another id"
        )
    for n, target in enumerate(faq.related):
        if target not in known:
            yield _broken(file, (*path, "related", n), f"'{target}' names no FAQ")
        elif target == faq.id:
            yield _broken(file, (*path, "related", n), "an FAQ cannot be related to itself")
    for n, pid in enumerate(faq.providers):
        if pid not in pids:
            yield _broken(
                file, (*path, "providers", n), f"'{pid}' is not a documented provider; known: {', '.join(pids)}"
            )


def off_domain_urls(provider: Provider) -> list[tuple[str, str]]:
    """The (kind, url) pairs of the provider's pages whose host is not one of its domains."""
    return [
        (kind, url)
        for kind, url in provider.urls.model_dump(exclude={"visibility"}).items()
        if not any(host_of(url) == d or host_of(url).endswith("." + d) for d in provider.domains)
    ]


def host_of(url: str) -> str:
    """The lowercase host name of a URL, or of a bare `host[:port][/path]`."""
    return (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()


def price_rules(providers: ProvidersFile, prices: PricesFile, snapshot: str = PRICES_FILE) -> Iterator[Finding]:
    """Yield every way the price snapshot is stale: a documented model it lacks, prices or routes it or not."""
    documented: set[str] = set()
    for pid, p in providers.providers.items():
        for n, model in enumerate(p.models):
            documented.add(model.name)
            expected = p.route(model)
            entry = prices.models.get(model.name)
            if entry is None:
                yield _broken(
                    "providers",
                    ("providers", pid, "models", n, "name"),
                    f"{snapshot} has no entry for documented model '{model.name}'; {SYNC_PRICES}",
                    reason="stale_prices",
                )
            elif entry.litellm_model != expected:
                yield _broken(
                    "prices",
                    ("models", model.name, "litellm_model"),
                    f"{snapshot} priced '{model.name}' as {entry.litellm_model}, but data/providers.yaml serves it as "
                    f"{expected}; {SYNC_PRICES}",
                    reason="stale_prices",
                )
    for name in prices.models:
        if name not in documented:
            yield _broken(
                "prices",
                ("models", name),
                f"{snapshot} prices '{name}', which is not a documented model; {SYNC_PRICES}",
                reason="stale_prices",
            )


def cost_rules(team: TeamFile) -> Iterator[Finding]:
    """Yield every rule the cost-control plan breaks: unknown tiers, teams or roles, and unbounded expensive tiers."""
    cost = team.cost_control
    tiers = {t.id: t for t in cost.tiers}
    known = ", ".join(tiers)
    for n, tier in enumerate(cost.tiers):
        if tier.expensive and tier.limits is None:
            yield _broken(
                "team",
                ("cost_control", "tiers", n, "expensive"),
                f"expensive tier '{tier.id}' needs limits (rpm and tpm for each of its deployments)",
            )
    plan: Path = ("cost_control", "proxy")
    for n, tid in enumerate(cost.proxy.default_key_tiers):
        if tid not in tiers:
            yield _broken(
                "team", (*plan, "default_key_tiers", n), f"unknown tier '{tid}'; cost_control.tiers defines: {known}"
            )
        elif tiers[tid].expensive:
            yield _broken(
                "team",
                (*plan, "default_key_tiers", n),
                f"'{tid}' is an expensive tier; a key created without a models list must not reach it",
            )
    team_ids: set[str] = set()
    for n, proxy_team in enumerate(cost.proxy.teams):
        if proxy_team.id in team_ids:
            yield _broken("team", (*plan, "teams", n, "id"), f"team '{proxy_team.id}' is defined twice")
        team_ids.add(proxy_team.id)
        for m, tid in enumerate(proxy_team.tiers):
            if tid not in tiers:
                yield _broken(
                    "team",
                    (*plan, "teams", n, "tiers", m),
                    f"unknown tier '{tid}'; cost_control.tiers defines: {known}",
                )
    roles = {r.id for r in team.roles}
    aliases: set[str] = set()
    for n, key in enumerate(cost.proxy.keys):
        if key.alias in aliases:
            yield _broken("team", (*plan, "keys", n, "alias"), f"key alias '{key.alias}' is used twice")
        aliases.add(key.alias)
        if key.team not in team_ids:
            yield _broken("team", (*plan, "keys", n, "team"), f"'{key.team}' names no team in cost_control.proxy.teams")
        if key.owner not in roles:
            yield _broken("team", (*plan, "keys", n, "owner"), f"'{key.owner}' names no role in roles")
        if key.soft_budget is not None and key.soft_budget >= key.max_budget:
            yield _broken(
                "team",
                (*plan, "keys", n, "soft_budget"),
                "soft_budget must be below max_budget, or the alert comes only when the key is already blocked",
            )


# --- The error catalog against what the proxy was seen doing -------------------------------------


def replay_digest(status: int, body: str) -> str:
    """How data/observations.yaml names the provider response an observation replayed: `429 sha256:…`."""
    return f"{status} sha256:{hashlib.sha256(body.encode('utf-8')).hexdigest()[:16]}"


def observation_rules(
    providers: ProvidersFile, proxy_errors: ProxyErrorsFile | None, observations: ObservationsFile | None
) -> Iterator[Finding]:
    """Yield every way the error catalog disagrees with itself or with what `make observe` saw.

    Without observations (a data directory that has no data/observations.yaml) only the entries' own
    sources are checked; with them, every entry must be observed and say what was observed.
    """
    seen: dict[str, Observation] = dict(observations.errors) if observations else {}
    version = observations.litellm if observations else ""
    expected: set[str] = set()
    for pid, p in providers.providers.items():
        for n, err in enumerate(p.errors):
            at: Path = ("providers", pid, "errors", n)
            key = observation_key(pid, err.code)
            expected.add(key)
            yield from _sourced("providers", at, err.source, err.body_source, p.domains)
            if err.body is not None and not _json_object(err.body):
                yield _broken("providers", (*at, "body"), "must be the provider's JSON error body (a JSON object)")
            if observations is None:
                continue
            missing = [f for f in ("source", "body", "member_status") if getattr(err, f) is None]
            missing += [] if err.match else ["match"]
            missing += [] if err.status is not None else ["status"]
            if missing:
                yield _broken(
                    "providers",
                    (*at, missing[0]),
                    f"an observed error entry needs {', '.join(missing)}: the provider's page, its documented "
                    "response, what members get through the proxy, and the phrases that identify it",
                    reason="unsourced_error",
                )
                continue
            assert err.status is not None and err.body is not None
            yield from _agrees("providers", at, key, seen.get(key), version, err.member_status, err.match)
            obs = seen.get(key)
            if obs is not None and obs.replayed != replay_digest(err.status, err.body):
                yield _broken(
                    "providers",
                    (*at, "body"),
                    f"data/observations.yaml observed another response ({obs.replayed}) than this entry documents "
                    f"({replay_digest(err.status, err.body)}); {OBSERVE}",
                    reason="stale_observation",
                )
    if proxy_errors is not None:
        ids: set[str] = set()
        for n, perr in enumerate(proxy_errors.errors):
            at = ("errors", n)
            if perr.id in ids:
                yield _broken("proxy_errors", (*at, "id"), f"id '{perr.id}' is used twice")
            ids.add(perr.id)
            yield from _sourced("proxy_errors", at, perr.source, None, proxy_errors.domains)
            if (perr.scenario is None) == (perr.not_observed is None):
                yield _broken(
                    "proxy_errors",
                    (*at, "scenario"),
                    "give either a scenario that `make observe` runs or, in not_observed, why it cannot be observed",
                )
            if perr.scenario is None or observations is None:
                continue
            key = observation_key("proxy", perr.id)
            expected.add(key)
            yield from _agrees("proxy_errors", at, key, seen.get(key), version, perr.status, perr.match)
    for key in seen:
        if observations is not None and key not in expected:
            yield _broken(
                "observations",
                ("errors", key),
                f"observes '{key}', which is no observed entry of the error catalog; {OBSERVE}",
                reason="stale_observation",
            )


def _sourced(file: str, at: Path, source: str | None, body_source: str | None, domains: list[str]) -> Iterator[Finding]:
    for field, url in (("source", source), ("body_source", body_source)):
        if url is None or (field == "body_source" and url.startswith("litellm/")):
            continue
        host = host_of(url)
        if not url.startswith("https://") or not any(host == d or host.endswith("." + d) for d in domains):
            yield _broken(
                file,
                (*at, field),
                f"'{url}' is not an https:// page on this provider's domains ({', '.join(domains)})"
                + ("; or name the pinned LiteLLM file as litellm/<path>" if field == "body_source" else ""),
                reason="off_domain_source",
            )


def _agrees(
    file: str, at: Path, key: str, obs: Observation | None, version: str, status: int | None, match: list[str]
) -> Iterator[Finding]:
    """The status and the phrases an entry states, against its observation."""
    if obs is None:
        yield _broken(file, at, f"'{key}' was never observed through the proxy; {OBSERVE}", reason="unobserved_error")
        return
    got = obs.member.status if obs.member else None
    if status != got:
        said = f"HTTP {status}" if status else "no HTTP answer"
        saw = f"HTTP {got}" if got else "no HTTP answer"
        yield _broken(
            file,
            (*at, "member_status" if file == "providers" else "status"),
            f"says members get {said}, but through LiteLLM {version} they got {saw} (data/observations.yaml)",
            reason="contradicted_by_observation",
        )
    visible = observed_text(obs).casefold()
    for m, phrase in enumerate(match):
        if phrase.casefold() not in visible:
            yield _broken(
                file,
                (*at, "match", m),
                f"'{phrase}' is in neither what members got through LiteLLM {version} nor the proxy's log; "
                "name what they really see",
                reason="contradicted_by_observation",
            )


def observed_text(obs: Observation) -> str:
    """Everything of an observation a person can see: the member's message, its type and code, the log, health."""
    parts = [*obs.log, *obs.health.values()]
    if obs.member:
        parts += [obs.member.message, obs.member.type or "", obs.member.code or ""]
    if obs.sdk and obs.sdk.message:
        parts.append(obs.sdk.message)
    return "\n".join(parts)


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
