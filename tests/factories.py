"""Plain functions that put domain objects in a test's database."""

from __future__ import annotations

import datetime as dt
import functools
import itertools

from sqlmodel import Session

from services.common.db import Database
from services.common.periods import Period
from services.ingest.tokens.service import create_token
from services.metrics.definitions.lifecycle import create_metric
from services.metrics.definitions.models import Direction, Metric, MetricBase, MetricKind, MetricState, TargetBase
from services.metrics.definitions.service import add_target
from services.metrics.departments.models import Department
from services.metrics.departments.service import create_department
from services.metrics.observations.models import Observation

_sequence = itertools.count(1)


def make_department(session: Session, code: str | None = None, name: str | None = None) -> Department:
    n = next(_sequence)
    return create_department(session, code or f"D{n:03d}", name or f"Department {n}")


def make_metric(session: Session, department: Department, **overrides) -> Metric:
    n = next(_sequence)
    values = {
        "key": f"{department.code.lower()}.metric_{n}",
        "name": f"Metric {n}",
        "unit": "percent",
        "kind": MetricKind.output,
        "direction": Direction.higher_is_better,
        "frequency": "month",
        "methodology": "Counted by the test.",
        "is_published": True,
        "min_value": 0.0,
        "max_value": 1.0,
    }
    state = overrides.pop("state", MetricState.active)
    values.update(overrides)
    return create_metric(session, department, MetricBase(**values), state=state)


def make_target(
    session: Session,
    metric: Metric,
    value: float,
    tolerance: float = 0.0,
    effective_from: dt.date = dt.date(2013, 1, 1),
):
    return add_target(
        session,
        metric,
        TargetBase(
            value=value, tolerance=tolerance, effective_from=effective_from, set_by="test", reason="test"
        ),
    )


def make_observation(session: Session, metric: Metric, period: str, value: float, **extra) -> Observation:
    observation = Observation(
        metric_id=metric.id, period=period, period_start=Period.parse(period).start, value=value, **extra
    )
    session.add(observation)
    session.flush()
    return observation


def make_token(ingest_db: Database, department_code: str, name: str = "test system") -> str:
    with ingest_db.session() as session:
        _, plaintext = create_token(session, department_code, name)
    return plaintext


DEFAULT_PASSWORD = "correct horse battery"


@functools.cache
def _password_hash(password: str) -> str:
    # argon2 is slow on purpose; one salted hash per password is as valid for every test account.
    from services.ingest.accounts.service import hash_password

    return hash_password(password)


def make_user(
    ingest_db: Database,
    username: str,
    role: str,
    department: str | None = None,
    password: str = DEFAULT_PASSWORD,
    active: bool = True,
    email: str | None = None,
) -> int:
    from services.ingest.accounts.models import StaffUser

    with ingest_db.session() as session:
        user = StaffUser(
            username=username,
            display_name=username.replace(".", " ").title(),
            password_hash=_password_hash(password),
            role=role,
            department_code=department,
            active=active,
            email=email,
        )
        session.add(user)
        session.flush()
        return user.id


def sign_in(client, username: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    """Signs the test client in (its cookie jar keeps the session); returns the CSRF header writes need."""
    response = client.post("/api/ingest/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}
