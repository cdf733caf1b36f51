"""Gate: facts that nobody has checked for too long are flagged, so the runbooks stay trustworthy."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from runbooks.findings import Finding

if TYPE_CHECKING:
    from runbooks.loader import Dataset

DEFAULT_MAX_AGE_DAYS = 180


def check_freshness(
    dataset: Dataset,
    *,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    strict: bool = False,
    today: dt.date | None = None,
) -> list[Finding]:
    """Flag every `verified_on` older than `max_age_days`: a warning, or a failure when `strict`."""
    today = today or dt.date.today()
    dated = [
        (("providers", "providers", pid, "verified_on"), pid, p.verified_on)
        for pid, p in dataset.providers.providers.items()
    ]
    dated.append((("team", "verified_on"), None, dataset.team.verified_on))
    findings = []
    for (file_key, *path), provider, verified_on in dated:
        age = (today - verified_on).days
        if age <= max_age_days:
            continue
        subject = f"provider '{provider}'" if provider else "the team"
        file, line = dataset.where(file_key, tuple(path))
        findings.append(
            Finding(
                "stale",
                f"the facts of {subject} were last verified {age} days ago ({verified_on.isoformat()}, "
                f"limit {max_age_days}); check them against the consoles and update verified_on",
                file,
                line,
                severity="error" if strict else "warning",
                context={"provider": provider, "verified_on": verified_on.isoformat(), "age_days": age},
            )
        )
    return findings
