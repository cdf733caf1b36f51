"""The shape of the runbook data: strict pydantic models, one per record, with the message of every field rule."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

LANGUAGES: tuple[str, ...] = ("zh", "en")
"""Every language the site is written in; the first is the default, served at the site root."""


Visibility = Literal["public", "internal"]
PUBLIC: Visibility = "public"
INTERNAL: Visibility = "internal"


@dataclass(frozen=True)
class DefaultVisibility:
    """Field metadata: who may read this field's facts unless the data says otherwise."""

    visibility: Visibility


Internal = DefaultVisibility(INTERNAL)
"""Marks a field whose facts only the team may read (the shared account, server paths, ops steps, roles)."""
Public = DefaultVisibility(PUBLIC)
"""Marks a field anyone may read even inside an internal record (a model name, a variable's name)."""


class Strict(BaseModel):
    """Base of every model: unknown keys are errors, values are not coerced between types.

    Every record may say who may read it with `visibility: public | internal`; without it, a fact
    takes its field's default (see `Internal` below), else the visibility of the record around it.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    visibility: Visibility | None = None


NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
EnvVar = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
Domain = Annotated[
    str, StringConstraints(max_length=253, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
]
ModelId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]

_URL_FORBIDDEN = re.compile(r"[\s\"'<>()\\`]")


def _https(url: str) -> str:
    if not url.startswith("https://"):
        raise ValueError("must be an https:// URL (people follow these links to pay)")
    if _URL_FORBIDDEN.search(url) or len(url) <= len("https://"):
        raise ValueError("must be a plain URL without spaces, quotes, brackets or backslashes")
    return url


def _local_http(url: str) -> str:
    if not re.fullmatch(r"https?://(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}", url):
        raise ValueError("must look like http://127.0.0.1:4001 (scheme, loopback host and port, no path)")
    return url


def _not_future(day: dt.date) -> dt.date:
    if day > dt.date.today():
        raise ValueError(f"{day.isoformat()} is in the future; use the day the facts were checked")
    return day


HttpsUrl = Annotated[str, AfterValidator(_https)]
LoopbackUrl = Annotated[str, AfterValidator(_local_http)]
VerifiedOn = Annotated[dt.date, AfterValidator(_not_future)]


def _absolute_posix(path: str) -> str:
    if not re.fullmatch(r"(/[A-Za-z0-9._~+@%-]+)+/?", path):
        raise ValueError("must be an absolute path on the server made of letters, digits and . _ ~ + @ % -")
    return path


ServerPath = Annotated[str, AfterValidator(_absolute_posix)]


class Text(Strict):
    """A human-readable string, written in every language of the site."""

    zh: NonEmpty
    en: NonEmpty

    def __call__(self, lang: str) -> str:
        """The text in `lang`."""
        return getattr(self, lang)


# --- Providers (data/providers.yaml) ------------------------------------------------------------


class ProviderUrls(Strict):
    """The provider's pages a team member opens; every host must be one of the provider's domains."""

    console: HttpsUrl
    billing: HttpsUrl
    api_keys: HttpsUrl
    usage: HttpsUrl


UrlKind = Literal["console", "billing", "api_keys", "usage"]


class Model(Strict):
    """A model the proxy serves: the public name clients send, the upstream id after the prefix."""

    name: ModelId
    upstream: ModelId
    tier: Slug
    notes: Text | None = None


class RechargeStep(Strict):
    """One step of paying the provider; `link` names one of the provider's URLs to open."""

    text: Text
    link: UrlKind | None = None


MAX_ANSWER_SENTENCES = 2
"""A direct answer is quotable on its own: this many sentences at most, per language."""

_CODE_SPANS = re.compile(r"`[^`]*`")
_SENTENCE_END = re.compile(r"[。！？]|[.!?](?=\s|$)")


def sentence_count(text: str) -> int:
    """How many sentences `text` has; a period inside a code span or a number does not end one."""
    plain = _CODE_SPANS.sub("x", text.strip())
    ends = len(_SENTENCE_END.findall(plain))
    return ends + (0 if _SENTENCE_END.search(plain[-1:]) else 1)


def _direct(answer: Text) -> Text:
    for lang in LANGUAGES:
        count = sentence_count(answer(lang))
        if count > MAX_ANSWER_SENTENCES:
            raise ValueError(
                f"the {lang} answer has {count} sentences; answer directly in at most {MAX_ANSWER_SENTENCES} "
                "and move the rest to `basis`"
            )
    return answer


class Faq(Strict):
    """A question people ask: a direct answer first, then its basis, its limits and the next steps."""

    id: Slug
    question: Text
    answer: Annotated[Text, AfterValidator(_direct)]
    basis: Text
    boundary: Text
    next_steps: list[Text] = Field(default_factory=list)
    related: list[Slug] = Field(default_factory=list)
    providers: list[Slug] = Field(default_factory=list)


class ErrorCode(Strict):
    """An error the provider returns, with what causes it, what to check and how to fix it."""

    code: Annotated[
        str,
        BeforeValidator(lambda v: str(v) if type(v) is int else v),
        StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    ]
    status: int | None = Field(default=None, ge=100, le=599)
    """The HTTP status the provider answers with."""
    cause: Text
    check: Text
    fix: Text
    source: HttpsUrl | None = None
    """The provider's page this entry comes from; its host must be one of the provider's domains."""
    body: NonEmpty | None = None
    """The JSON body the provider answers with `status`, as its page shows it; `make observe` replays it."""
    body_source: NonEmpty | None = None
    """Where `body` comes from when not from `source`: another page of the provider, or `litellm/<file>` of the
    pinned LiteLLM package whose parser reads that shape."""
    member_status: int | None = Field(default=None, ge=100, le=599)
    """The HTTP status a member gets through the proxy (checked against data/observations.yaml)."""
    match: list[NonEmpty] = Field(default_factory=list)
    """Phrases of what people see (the proxy's message, its log) that identify this error, for `explain`."""
    billing: bool = False
    """The error means money: credit, a spending limit or a payment; retrying it cannot help."""


class KeyPlatform(Strict):
    """The platform that issues the provider's API keys (`urls.api_keys` is on it) and the API base they work on."""

    name: Text
    api_base: HttpsUrl
    """The base URL of that platform's API; its host must be one of the provider's `api_hosts`."""


class LitellmApiBase(Strict):
    """Where LiteLLM sends the provider's prefix when a deployment has no api_base: `env` if set, else `default`."""

    env: EnvVar
    default: HttpsUrl


class Provider(Strict):
    """An AI API provider the team pays for; its id is its key under `providers:`."""

    name: Text
    summary: Text
    litellm_prefix: Slug
    env_var: EnvVar
    domains: list[Domain] = Field(min_length=1)
    api_hosts: list[Domain] = Field(min_length=1)
    urls: ProviderUrls
    models: list[Model] = Field(min_length=1)
    recharge_steps: list[RechargeStep] = Field(min_length=1)
    payment_notes: list[Text] = Field(default_factory=list)
    faqs: list[Faq] = Field(default_factory=list)
    errors: list[ErrorCode] = Field(default_factory=list)
    verified_on: VerifiedOn
    key_platform: KeyPlatform | None = None
    litellm_api_base: LitellmApiBase | None = None

    def route(self, model: Model) -> str:
        """The `litellm_params.model` that sends `model` to this provider: `prefix/upstream`."""
        return f"{self.litellm_prefix}/{model.upstream}"

    @property
    def needs_api_base(self) -> bool:
        """Whether LiteLLM's default base URL for the prefix is on another platform than the one issuing the keys."""
        if self.key_platform is None or self.litellm_api_base is None:
            return False
        default = self.litellm_api_base.default
        return _url_host(default) not in self.api_hosts


def _url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class ProvidersFile(Strict):
    """The whole of data/providers.yaml."""

    providers: dict[Slug, Provider] = Field(min_length=1)


# --- The team (data/team.yaml) ------------------------------------------------------------------


class Account(Strict):
    """The shared login the team uses on every provider console."""

    email: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}$")]
    scope: Text
    two_factor: Text


class Server(Strict):
    """Where the proxy runs and the files and scripts an operator touches."""

    keys_file: ServerPath
    config_file: ServerPath
    reload_script: ServerPath
    proxy_url: LoopbackUrl
    master_key_env: Annotated[EnvVar, Public]
    smoke_test_model: Annotated[ModelId, Public]
    chat_ui: NonEmpty


class OpsStep(Strict):
    """One step of the after-recharge procedure; `command` is shown as a copyable block."""

    id: Slug
    title: Text
    body: Text
    command: Literal["edit_keys", "reload", "smoke_test"] | None = None


class Role(Strict):
    """A role on the team and what it may and may not do."""

    id: Slug
    name: Text
    holds: Text
    may: list[Text] = Field(min_length=1)
    may_not: list[Text] = Field(default_factory=list)


# --- Cost control in the LiteLLM proxy (data/team.yaml, cost_control) ---------------------------
# Budgets are in US dollars, as LiteLLM counts spend from its price map.

BudgetDuration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(s|m|h|d|w|mo)$")]
"""A LiteLLM budget_duration: a count and a unit, "30d", "7d", "1mo" (litellm_core_utils/duration_parser.py)."""

Usd = Annotated[float, Field(gt=0)]
PerMinute = Annotated[int, Field(gt=0)]

ExampleKind = Literal["proxy_budget", "team", "key", "access_groups", "deployment_limits", "spend_logs", "alerts"]
"""The config or API examples the cost-control page renders from `cost_control.proxy`."""

AlertType = Literal[
    # A subset of AlertType in litellm/types/integrations/slack_alerting.py.
    "budget_alerts", "spend_reports", "llm_exceptions", "llm_too_slow", "llm_requests_hanging", "daily_reports",
    "outage_alerts", "db_exceptions",
]  # fmt: skip


class DeploymentLimits(Strict):
    """Per-minute caps on each deployment of a tier: litellm_params.rpm and litellm_params.tpm."""

    rpm: PerMinute
    tpm: PerMinute


class Tier(Strict):
    """A cost tier models are sorted into, cheapest first; an expensive tier needs limits on its deployments."""

    id: Slug
    name: Text
    use_for: Text
    expensive: bool = False
    limits: DeploymentLimits | None = None


class ProxyFeature(Strict):
    """The LiteLLM proxy feature that implements a control, and the examples that show it."""

    feature: Text
    how: Text
    examples: list[ExampleKind] = Field(min_length=1)


class Control(Strict):
    """A cost control: what it is for, an example, the risk of going without it, and how LiteLLM does it."""

    id: Slug
    name: Text
    purpose: Text
    example: Text
    risk: Text
    litellm: ProxyFeature


class ProxyBudget(Strict):
    """A spending cap that resets: LiteLLM's max_budget (USD) and budget_duration."""

    max_budget: Usd
    budget_duration: BudgetDuration


class ProxyTeam(Strict):
    """A LiteLLM team (`/team/new`): the spending of one project or environment, with its budget and tiers."""

    id: Slug
    purpose: Text
    max_budget: Usd
    budget_duration: BudgetDuration
    tiers: list[Slug] = Field(min_length=1)


class ProxyKey(Strict):
    """A LiteLLM virtual key (`/key/generate`) for one environment and owner, inside a team."""

    alias: Slug
    team: Slug
    owner: Slug
    environment: Slug
    max_budget: Usd
    soft_budget: Usd | None = None
    budget_duration: BudgetDuration
    rpm_limit: PerMinute
    tpm_limit: PerMinute


class Alerting(Strict):
    """Where the proxy sends alerts (general_settings.alerting) and which ones."""

    channel: Literal["slack"]
    webhook_env: EnvVar
    types: list[AlertType] = Field(min_length=1)
    threshold_seconds: int = Field(gt=0)


class SpendLogs(Strict):
    """How long the proxy keeps its per-request spend logs (general_settings.maximum_spend_logs_retention_period)."""

    retention: BudgetDuration
    database_env: EnvVar


RetryClass = Literal[
    # The fields of RetryPolicy in litellm/types/router.py of the pinned LiteLLM.
    "BadRequestErrorRetries", "AuthenticationErrorRetries", "TimeoutErrorRetries", "RateLimitErrorRetries",
    "ContentPolicyViolationErrorRetries", "InternalServerErrorRetries", "ServiceUnavailableErrorRetries",
    "NotFoundErrorRetries", "DefaultRetries",
]  # fmt: skip


class ProxyPlan(Strict):
    """How the team's LiteLLM proxy implements the controls: budgets, teams, keys, retries, alerts and logs."""

    budget: ProxyBudget
    num_retries: int = Field(ge=0, le=5)
    retry_policy: dict[RetryClass, Annotated[int, Field(ge=0, le=5)]] = Field(default_factory=dict)
    """router_settings.retry_policy: retries per exception class, overriding num_retries (billing errors: 0)."""
    default_key_tiers: list[Slug] = Field(min_length=1)
    teams: list[ProxyTeam] = Field(min_length=1)
    keys: list[ProxyKey] = Field(min_length=1)
    alerting: Alerting
    spend_logs: SpendLogs


# --- (end of the cost-control block) --------------------------------------------------------------


class CostControl(Strict):
    """Guidance on keeping the bill under control."""

    intro: Text
    tiers: list[Tier] = Field(min_length=1)
    controls: list[Control] = Field(min_length=1)
    proxy: ProxyPlan
    rollout: list[Text] = Field(min_length=1)
    evidence: list[Text] = Field(min_length=1)
    mistakes: list[Text] = Field(min_length=1)


class ModelGroup(Strict):
    """A public model name the proxy load-balances across documented models, of one provider or several."""

    name: ModelId
    members: list[ModelId] = Field(min_length=2)
    """Documented model names; every deployment serving `name` must send one of them."""
    purpose: Text


class TeamFile(Strict):
    """The whole of data/team.yaml: facts about the team rather than about one provider."""

    team: Text
    account: Annotated[Account, Internal]
    server: Annotated[Server, Internal]
    never_share: Annotated[list[Text], Internal] = Field(min_length=1)
    after_recharge: Annotated[list[OpsStep], Internal] = Field(min_length=1)
    roles: Annotated[list[Role], Internal] = Field(min_length=1)
    faqs: list[Faq] = Field(min_length=1)
    cost_control: CostControl
    verified_on: VerifiedOn
    model_groups: list[ModelGroup] = Field(default_factory=list)


# --- The price snapshot (data/prices.yaml) ---------------------------------------------------------

PRICES_FILE = "data/prices.yaml"
"""Where the snapshot of LiteLLM's prices lives, as messages name it."""

SYNC_PRICES = "run `make sync-prices` (python -m runbooks sync-prices) to refresh it"


class PriceSource(Strict):
    """Where the snapshot's numbers come from: the LiteLLM package, its version, and the day they were copied."""

    package: Literal["litellm"]
    version: Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9A-Za-z]+)*$")]
    file: NonEmpty
    synced_on: VerifiedOn


Tokens = Annotated[int, Field(gt=0)]
UsdPerMillion = Annotated[float, Field(ge=0)]


class ModelPrice(Strict):
    """What LiteLLM's price map says about one documented model; no `price_map_key` means it is not in the map."""

    litellm_model: ModelId
    price_map_key: NonEmpty | None
    mode: NonEmpty | None = None
    input_usd_per_mtok: UsdPerMillion | None = None
    output_usd_per_mtok: UsdPerMillion | None = None
    max_input_tokens: Tokens | None = None
    max_output_tokens: Tokens | None = None

    @model_validator(mode="after")
    def _nothing_without_a_key(self) -> ModelPrice:
        facts = ("mode", "input_usd_per_mtok", "output_usd_per_mtok", "max_input_tokens", "max_output_tokens")
        if self.price_map_key is None and any(getattr(self, f) is not None for f in facts):
            raise ValueError("a model that is not in LiteLLM's price map (price_map_key: null) can have no prices")
        return self


class PricesFile(Strict):
    """The whole of data/prices.yaml, written by `python -m runbooks sync-prices`."""

    source: PriceSource
    models: dict[ModelId, ModelPrice]


# --- The proxy's own errors (data/proxy_errors.yaml) ----------------------------------------------

PROXY_ERRORS_FILE = "data/proxy_errors.yaml"

ProxyScenario = Literal[
    "unknown_key", "unknown_model", "deployment_rpm", "cooldown_after_auth_error", "budget_without_database",
    "proxy_down",
]  # fmt: skip
"""How `make observe` provokes one of the proxy's own errors (runbooks/observe/scenarios.py)."""


class ProxyError(Strict):
    """An error LiteLLM's proxy answers with itself, before or instead of asking a provider."""

    id: Slug
    title: Text
    status: int | None = Field(default=None, ge=100, le=599)
    """The HTTP status the member gets; none when no HTTP answer comes at all."""
    match: list[NonEmpty] = Field(min_length=1)
    source: HttpsUrl
    """LiteLLM's documentation page this entry comes from."""
    scenario: ProxyScenario | None = None
    needs_database: bool = False
    not_observed: Text | None = None
    """Why `make observe` cannot provoke it (for example: it needs the proxy's database)."""
    cause: Text
    check: Text
    fix: Text


class ProxyErrorsFile(Strict):
    """The whole of data/proxy_errors.yaml: what the proxy itself returns, and LiteLLM's domains."""

    domains: list[Domain] = Field(min_length=1)
    errors: list[ProxyError] = Field(min_length=1)
    verified_on: VerifiedOn


# --- What the proxy was seen doing (data/observations.yaml, written by `make observe`) -------------

OBSERVATIONS_FILE = "data/observations.yaml"
OBSERVE = "run `make observe` (python -m runbooks observe) to observe it again"


class MemberSaw(Strict):
    """What the page's curl command got: the HTTP status and the error object, or curl's own failure."""

    status: int | None = None
    type: str | None = None
    code: str | None = None
    message: str
    curl_exit: int = 0


class SdkSaw(Strict):
    """What the OpenAI Python SDK raised with its default settings, and how often it reached the provider."""

    exception: NonEmpty
    status: int | None = None
    message: str | None = None
    """What the SDK says when no HTTP answer came (otherwise the status and the member's message say it)."""
    attempts: int | None = None


class Observation(Strict):
    """One error entry provoked through the real proxy: what the member and the operator saw."""

    replayed: str | None = None
    """`<status> sha256:<digest>` of the provider response the fake upstream replayed (none for the proxy's own)."""
    attempts: int | None = None
    """How many requests reached the provider for the one curl request (none when no provider is involved)."""
    member: MemberSaw | None = None
    sdk: SdkSaw | None = None
    log: list[str] = Field(default_factory=list)
    """The proxy's log lines for the request (times, ids and ports replaced by placeholders)."""
    health: dict[str, str] = Field(default_factory=dict)
    """For the proxy's health checks: what each endpoint answered."""


class ObservationsFile(Strict):
    """The whole of data/observations.yaml: every error entry observed through one LiteLLM version."""

    litellm: Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9A-Za-z]+)*$")]
    observed_on: VerifiedOn
    config: NonEmpty
    changed: list[NonEmpty] = Field(default_factory=list)
    """What the observation changed in the config to run it on one machine (base URLs, services)."""
    errors: dict[NonEmpty, Observation]


def observation_key(provider: str, code: str) -> str:
    """The key of an error entry in data/observations.yaml: `openai/insufficient_quota`, `proxy/unknown-key`."""
    return f"{provider}/{code}"
