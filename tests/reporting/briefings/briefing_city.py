"""A small city whose numbers are known, for briefing tests: values written through metrics' delivery route, so
that every one has its revision."""

from __future__ import annotations

import time

from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_metric, make_target, make_user

DELIVERY = "/api/metrics/observations/batch"
MONTHS = [f"2016-{m:02d}" for m in range(7, 13)] + [f"2017-{m:02d}" for m in range(1, 7)]


def deliver(client, department: str, rows: list[dict]) -> None:
    """As an analyst's entry: periods long past are locked, and correcting them takes an analyst and a reason."""
    rows = [{"reason": "entered for the test", **row} for row in rows]
    answer = client.post(
        DELIVERY,
        json={"department": department, "rows": rows, "actor": "user:analyst", "may_correct_locked": True},
        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    assert not answer.json()["summary"]["rejected"], answer.json()


def make_briefing_city(client, metrics_db, ingest_db) -> None:
    """DPW and DWM with a year of monthly values (July 2016 - June 2017):
    - dpw.on_time rises from 0.80 to 0.95 against a 0.90 target (on target in June 2017);
    - dpw.pothole_days is 5.0 days in June against a 3-day target (off target, lower is better);
    - dwm.main_breaks jumps from about 40 to 90 in June (a mover), no target;
    - dwm.on_time sits at 0.70 against 0.85 (off target all year);
    - dpw.calls is flat at 1,000 with no target.
    Staff: ana (analyst), lee (DPW liaison), wes (DWM liaison)."""
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        dwm = make_department(s, "DWM", "Watershed Management")
        on_time = make_metric(s, dpw, key="dpw.on_time", name="Service requests completed on time")
        make_target(s, on_time, 0.90, 0.05)
        potholes = make_metric(
            s, dpw, key="dpw.pothole_days", name="Days to repair a pothole", unit="days",
            direction="lower_is_better", min_value=0, max_value=None,
        )  # fmt: skip
        make_target(s, potholes, 3.0, 0.5)
        make_metric(s, dwm, key="dwm.main_breaks", name="Water main breaks", unit="count", min_value=0, max_value=None)
        dwm_on_time = make_metric(s, dwm, key="dwm.on_time", name="Work orders completed on time")
        make_target(s, dwm_on_time, 0.85, 0.02)
        make_metric(s, dpw, key="dpw.calls", name="311 calls answered", unit="count", min_value=0, max_value=None)
    rows_dpw, rows_dwm = [], []
    for index, period in enumerate(MONTHS):
        rows_dpw.append({"metric": "dpw.on_time", "period": period, "value": round(0.80 + index * 0.15 / 11, 4)})
        rows_dpw.append({"metric": "dpw.pothole_days", "period": period, "value": 3.0 if index < 11 else 5.0})
        rows_dpw.append({"metric": "dpw.calls", "period": period, "value": 1000})
        rows_dwm.append(
            {"metric": "dwm.main_breaks", "period": period, "value": 40 + (index % 3) if index < 11 else 90}
        )
        rows_dwm.append({"metric": "dwm.on_time", "period": period, "value": 0.70})
    deliver(client, "DPW", rows_dpw)
    deliver(client, "DWM", rows_dwm)
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lee", "liaison", "DPW")
    make_user(ingest_db, "wes", "liaison", "DWM")


def wait_built(client, briefing_id: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        briefing = client.get(f"/api/reporting/briefings/{briefing_id}").json()
        if briefing["build"]["status"] in ("ready", "failed") or time.monotonic() > deadline:
            return briefing
        time.sleep(0.05)
