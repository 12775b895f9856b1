"""What the reliability tests compare after a run: what should be stored (from what was sent) and what is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import func, select

from services.common.db import Database
from services.ingest.submissions.models import Submission
from services.metrics.definitions.models import Metric
from services.metrics.observations.models import Observation, ObservationRevision
from tests.conftest import DatabaseSet
from tests.reliability.harness import ACCEPTED, LoadRun, PairKey, Sent

# ---------------------------------------------------------------------------------------------------------------
# What should be stored, and what is
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Expected:
    values: dict[PairKey, float] = field(default_factory=dict)
    # Changes actually sent per pair: the first value, then each value that differs from the one before.
    revisions: Counter[PairKey] = field(default_factory=Counter)
    keys: set[tuple[str, str]] = field(default_factory=set)


def expected_from(sent: list[Sent]) -> Expected:
    """Pairs belong to one sender, so its order of sending is the order that must win."""
    expected = Expected()
    for s in sorted(sent, key=lambda s: (s.submitter, s.seq)):
        if s.kind == "retry" or s.status not in ACCEPTED:
            continue
        expected.keys.add((s.department, s.key))
        for metric, period, value in s.rows:
            pair = (metric, period)
            if expected.values.get(pair) != value:
                expected.revisions[pair] += 1
            expected.values[pair] = value
    return expected


@dataclass
class Stored:
    values: dict[PairKey, float]
    observation_rows: int
    revisions: Counter[PairKey]
    revision_rows: int
    submissions: dict[tuple[str, str], str]  # (department, key) -> delivery status


def stored_state(dbs: DatabaseSet) -> Stored:
    metrics_db, ingest_db = Database(dbs.urls["metrics"]), Database(dbs.urls["ingest"])
    try:
        with metrics_db.session(write=False) as session:
            values = {
                (key, period): value
                for key, period, value in session.exec(
                    select(Metric.key, Observation.period, Observation.value).join(
                        Metric, Metric.id == Observation.metric_id
                    )
                )
            }
            observation_rows = session.exec(select(func.count()).select_from(Observation)).one()
            revisions = Counter(
                {
                    (key, period): n
                    for key, period, n in session.exec(
                        select(Metric.key, ObservationRevision.period, func.count())
                        .join(Metric, Metric.id == ObservationRevision.metric_id)
                        .group_by(Metric.key, ObservationRevision.period)
                    )
                }
            )
            revision_rows = session.exec(select(func.count()).select_from(ObservationRevision)).one()
        with ingest_db.session(write=False) as session:
            submissions = {
                (department, key): status
                for department, key, status in session.exec(
                    select(Submission.department_code, Submission.idempotency_key, Submission.delivery_status)
                )
            }
    finally:
        metrics_db.dispose()
        ingest_db.dispose()
    return Stored(values, observation_rows, revisions, revision_rows, submissions)


def _sample(items: list, n: int = 10) -> str:
    return "; ".join(str(i) for i in items[:n]) + (f" ... ({len(items)} in all)" if len(items) > n else "")


@dataclass(frozen=True)
class Figures:
    """compare's figures in words (what the tests print), with the counts behind them (what `make reliability`
    tabulates)."""

    text: str
    counts: dict[str, int]

    def __str__(self) -> str:
        return self.text


def compare(expected: Expected, stored: Stored, *, exact_revisions: bool = True) -> tuple[list[str], Figures]:
    """Every way the stores differ from what was sent (empty when none), and the figures.

    With exact_revisions=False (deliveries may arrive out of the order they were sent, as after an
    outage) a value sent before the stored one and delivered after it is ignored, so it leaves no
    revision: each pair then has at least one revision and never more than the changes sent."""
    lost = sorted(p for p in expected.values if p not in stored.values)
    wrong = sorted(
        (p, expected.values[p], stored.values[p])
        for p in expected.values
        if p in stored.values and stored.values[p] != expected.values[p]
    )
    extra = sorted(p for p in stored.values if p not in expected.values)
    revisions = sorted(
        (p, expected.revisions[p], stored.revisions[p])
        for p in set(expected.revisions) | set(stored.revisions)
        if (
            expected.revisions[p] != stored.revisions[p]
            if exact_revisions
            else not 1 <= stored.revisions[p] <= expected.revisions[p]
        )
    )
    missing_keys = sorted(expected.keys - set(stored.submissions))
    extra_keys = sorted(set(stored.submissions) - expected.keys)
    undelivered = sorted((k, v) for k, v in stored.submissions.items() if v != "delivered")
    problems = []
    if lost:
        problems.append(f"lost {len(lost)} pair(s): {_sample(lost)}")
    if wrong:
        problems.append(
            f"{len(wrong)} pair(s) hold another value than the last one sent (pair, sent, stored): {_sample(wrong)}"
        )
    if extra:
        problems.append(f"{len(extra)} pair(s) stored that were never accepted: {_sample(extra)}")
    if stored.observation_rows != len(expected.values):
        problems.append(f"{stored.observation_rows} observation rows for {len(expected.values)} distinct pairs sent")
    if revisions:
        problems.append(
            f"{len(revisions)} pair(s) with another number of revisions (pair, expected, stored): {_sample(revisions)}"
        )
    if stored.revision_rows != sum(expected.revisions.values()) and exact_revisions:
        problems.append(f"{stored.revision_rows} revision rows for {sum(expected.revisions.values())} changes sent")
    if missing_keys:
        problems.append(f"{len(missing_keys)} accepted submission(s) not stored in ingest: {_sample(missing_keys)}")
    if extra_keys:
        problems.append(f"{len(extra_keys)} submission(s) stored that were not accepted: {_sample(extra_keys)}")
    if undelivered:
        problems.append(f"{len(undelivered)} submission(s) not delivered: {_sample(undelivered)}")
    counts = {
        "pairs_sent": len(expected.values),
        "observations": stored.observation_rows,
        "lost": len(lost) + len(missing_keys),
        "wrong_value": len(wrong),
        "duplicated": len(extra) + len(extra_keys) + sum(max(0, s - e) for _, e, s in revisions),
        "undelivered": len(undelivered),
    }
    figures = (
        f"observations {stored.observation_rows} (distinct pairs sent {len(expected.values)}), "
        f"revisions {stored.revision_rows} (value changes sent {sum(expected.revisions.values())}), "
        f"ingest submissions {len(stored.submissions)} (distinct keys sent {len(expected.keys)}), "
        f"lost {len(lost)}, wrong value {len(wrong)}, duplicated revisions "
        f"{sum(max(0, s - e) for _, e, s in revisions)}"
    )
    return problems, Figures(figures, counts)


def answer_problems(run: LoadRun, allowed: tuple[int, ...] = ACCEPTED) -> list[str]:
    """Transport errors, 5xx and other unexpected statuses, and retries that did not replay the first answer."""
    problems = []
    errors = [s for s in run.sent if s.error is not None]
    if errors:
        problems.append(f"{len(errors)} request(s) got no answer:\n" + "\n".join(s.describe() for s in errors[:5]))
    server = [s for s in run.sent if s.status is not None and s.status >= 500]
    if server:
        problems.append(f"{len(server)} 5xx answer(s):\n" + "\n".join(s.describe() for s in server[:5]))
    other = [s for s in run.sent if s.status is not None and s.status < 500 and s.status not in allowed]
    if other:
        problems.append(f"{len(other)} unexpected answer(s):\n" + "\n".join(s.describe() for s in other[:5]))
    firsts = {(s.submitter, s.seq): s for s in run.sent if s.kind != "retry"}
    differing = []
    for s in run.sent:
        if s.kind == "retry":
            first = firsts[(s.submitter, s.retry_of)]
            if (s.status, s.answer) != (first.status, first.answer):
                differing.append(f"first:\n{first.describe()}\nretry:\n{s.describe()}")
    if differing:
        problems.append(f"{len(differing)} retry(s) did not get the first answer:\n" + "\n".join(differing[:3]))
    return problems
