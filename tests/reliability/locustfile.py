"""Load on the public and reporting routes of a served demo city, for locust run as its own process.

    python -m locust -f tests/reliability/locustfile.py --headless -u 200 -r 20 -t 120s --host http://127.0.0.1:8000

tests/reliability/test_locust_load.py runs it that way and reads what it wrote. Three kinds of user, weighted as a
city's traffic is (most of it anonymous reads):

- open-data clients (Socrata, CKAN and DCAT-US tools, scripts): catalogues, metadata, SoQL queries;
- residents on the public site: its pages, the API calls those pages make (frontend/public/js), public scorecards;
- staff, each signed in once with their own demo account: the home board, scorecards, departments, briefings,
  meetings, and metric pages with their series (frontend/js).

Weights 3:5:2 (60, 100 and 40 of 200 users), with the pauses people and scripts take between pages or queries (5 to
15 s to read a page, 2 to 8 s between a script's queries): about 80 requests a second offered by 200 users, since a
page is several requests. Every request is named "<route class> <route>", so the stats group by route and each
route class can be summed.

Each simulated user sends its own X-Forwarded-For address, as the reverse proxy in front of a deployment passes each
client's address: the per-address public rate limit then applies per resident, as it does in production, instead of
refusing 200 people who all appear to be 127.0.0.1 (uvicorn trusts the header from loopback only).

With CITYSTAT_LOCUST_SUMMARY naming a file, a JSON summary per route class (requests, failures, p50, p95, max and
the statuses seen), and "all" for the whole run with its length, is written there when the run ends: locust's CSV
has percentiles per route, not per class.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import time
from collections import Counter, defaultdict

import requests
from locust import FastHttpUser, between, events, task

# The demo city's password, shared by its staff accounts (services/ingest/accounts/demo.py); a demo, not a secret.
DEMO_PASSWORD = "citystat-demo"
CLASSES = ("open-data", "public-api", "static", "sign-in", "reporting", "series")

# What the run found in the served city before the first user came: dataset ids, departments, metrics, priorities.
city: dict[str, list] = {}
_addresses = itertools.count(1)
_accounts = itertools.count(0)
_times: dict[str, list[float]] = defaultdict(list)
_failures: Counter[str] = Counter()
_statuses: dict[str, Counter[str]] = defaultdict(Counter)
_started: list[float] = []


@events.test_start.add_listener
def start_clock(**_kwargs) -> None:
    _started.append(time.monotonic())


@events.init.add_listener
def discover(environment, **_kwargs) -> None:
    """Read the city's identifiers once, as its catalogues publish them, so no id is hard-coded here. Done before the
    run starts (at init, not test_start): locust's run time is already counting at test_start."""
    base = environment.host.rstrip("/")
    get = requests.Session().get

    def items(path: str) -> list[dict]:
        response = get(f"{base}{path}", timeout=30)
        response.raise_for_status()
        return response.json()["items"]

    catalog = get(f"{base}/api/catalog/v1", timeout=30).json()["results"]
    datasets = {r["resource"]["name"]: r["resource"]["id"] for r in catalog}
    city["records"] = [datasets["Service requests"]]
    city["observations"] = [datasets["Performance metric values"]]
    city["budget"] = [datasets["City budget"]]
    city["datasets"] = list(datasets.values())
    departments = items("/api/metrics/departments?limit=500")
    city["departments"] = [d["code"] for d in departments]
    city["active_departments"] = [d["code"] for d in departments if d.get("metric_count")]
    metrics = items("/api/metrics/metrics?limit=500")
    city["metrics"] = [m["key"] for m in metrics]
    city["metric_departments"] = sorted({m["department"] for m in metrics})
    city["priorities"] = [p["code"] for p in items("/api/metrics/priorities")]
    city["fiscal_years"] = [y["fiscal_year"] for y in items("/api/metrics/budget/years")]
    codes = [c.lower() for c in city["departments"]]
    city["accounts"] = ["analyst", "admin", "viewer"] + [f"{c}.{role}" for role in ("head", "liaison") for c in codes]
    for name, found in city.items():
        if not found:
            raise RuntimeError(f"the served city has no {name}: is the demo city loaded?")


@events.request.add_listener
def count(name: str, response_time: float, exception, response=None, **_kwargs) -> None:
    route_class = name.split(" ", 1)[0]
    _times[route_class].append(response_time)
    status = getattr(response, "status_code", 0) if response is not None else 0
    # A status of 0 is no answer at all (refused, reset, timed out): the exception names it.
    _statuses[route_class][str(status) if status else type(exception).__name__] += 1
    if exception is not None:
        _failures[route_class] += 1


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@events.test_stop.add_listener
def summarise(environment, **_kwargs) -> None:
    target = os.environ.get("CITYSTAT_LOCUST_SUMMARY")
    if not target:
        return

    def figures(times: list[float], failures: int, statuses: Counter[str]) -> dict:
        return {
            "requests": len(times),
            "failures": failures,
            "p50_ms": round(_percentile(times, 0.50), 1) if times else None,
            "p95_ms": round(_percentile(times, 0.95), 1) if times else None,
            "max_ms": round(max(times), 1) if times else None,
            "statuses": dict(statuses),
        }

    summary = {c: figures(_times[c], _failures[c], _statuses[c]) for c in CLASSES}
    everything = figures(
        [t for c in CLASSES for t in _times[c]], sum(_failures.values()), sum(_statuses.values(), Counter())
    )
    everything["seconds"] = round(time.monotonic() - _started[0], 1) if _started else None
    summary["all"] = everything
    with open(target, "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=1)


def _month() -> str:
    """A month of the demo's last two years (it ends in June 2017)."""
    months = [(2015, m) for m in range(7, 13)] + [(2016, m) for m in range(1, 13)] + [(2017, m) for m in range(1, 7)]
    year, month = random.choice(months)
    return f"{year:04d}-{month:02d}"


class CityUser(FastHttpUser):
    abstract = True
    # A page that has not answered in 30 s has failed its reader, whatever arrives later.
    network_timeout = 30.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        n = next(_addresses)
        self.address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def get(self, name: str, path: str, params: dict | None = None) -> None:
        self.client.get(path, params=params, name=name, headers={"X-Forwarded-For": self.address})


class OpenDataClient(CityUser):
    """A script or open-data portal reading the catalogues and querying datasets through SoQL."""

    weight = 3
    # A script's pause between queries.
    wait_time = between(2, 8)

    @task(2)
    def dcat(self) -> None:
        self.get("open-data /data.json", "/data.json")

    @task(2)
    def socrata_catalog(self) -> None:
        self.get("open-data /api/catalog/v1", "/api/catalog/v1", {"limit": 20})

    @task(1)
    def ckan_and_frictionless(self) -> None:
        self.get("open-data /api/3/action/package_list", "/api/3/action/package_list")
        self.get("open-data /datapackage.json", "/datapackage.json")

    @task(2)
    def dataset_metadata(self) -> None:
        dataset = random.choice(city["datasets"])
        self.get("open-data /api/views/[id].json", f"/api/views/{dataset}.json")
        self.get("open-data /api/views/[id]/datapackage.json", f"/api/views/{dataset}/datapackage.json")

    @task(1)
    def small_download(self) -> None:
        # The whole of a small dataset; the 125,000 service requests are a bulk download left out of this mix.
        dataset = random.choice(city["observations"] + city["budget"])
        self.get("open-data /api/views/[id]/rows.csv", f"/api/views/{dataset}/rows.csv", {"accessType": "DOWNLOAD"})

    @task(4)
    def requests_where(self) -> None:
        department = random.choice(["DPW", "DWM"])
        since = f"{_month()}-01"
        self.get(
            "open-data /resource/[id].json $where",
            f"/resource/{city['records'][0]}.json",
            {"$where": f"department='{department}' AND opened_at >= '{since}'", "$order": "opened_at DESC",
             "$limit": random.choice([10, 50, 100])},
        )  # fmt: skip

    @task(3)
    def requests_group(self) -> None:
        column = random.choice(["category", "district", "source", "status"])
        self.get(
            "open-data /resource/[id].json $group",
            f"/resource/{city['records'][0]}.json",
            {"$select": f"{column}, count(*) AS n, avg(days_to_close) AS days", "$where": "on_time = false",
             "$group": column, "$order": "n DESC", "$limit": 20},
        )  # fmt: skip

    @task(3)
    def observations_filter(self) -> None:
        self.get(
            "open-data /resource/[id].json filter",
            f"/resource/{city['observations'][0]}.json",
            {"metric": random.choice(city["metrics"]), "$order": "period", "$limit": 100},
        )

    @task(1)
    def observations_csv(self) -> None:
        self.get(
            "open-data /resource/[id].csv $where",
            f"/resource/{city['observations'][0]}.csv",
            {"$where": f"department='{random.choice(city['metric_departments'])}' AND period >= '{_month()}'",
             "$limit": 500},
        )  # fmt: skip

    @task(1)
    def budget_group(self) -> None:
        self.get(
            "open-data /resource/[id].json $group",
            f"/resource/{city['budget'][0]}.json",
            {"$select": "department, sum(amount) AS total",
             "$where": f"fiscal_year='{random.choice(city['fiscal_years'])}' AND kind='expense'",
             "$group": "department", "$order": "total DESC"},
        )  # fmt: skip


class Resident(CityUser):
    """Someone on the public site: each task is one page, its HTML and the API calls its script makes."""

    weight = 5
    # The time it takes to read a page of figures before the next.
    wait_time = between(5, 15)

    @task(4)
    def key_results(self) -> None:
        self.get("static /public/index.html", "/public/index.html")
        self.get("public-api /api/metrics/priorities", "/api/metrics/priorities")
        self.get("public-api /api/metrics/departments", "/api/metrics/departments", {"limit": 500})
        for priority in city["priorities"]:
            self.get("public-api /api/metrics/performance?key", "/api/metrics/performance",
                     {"key": "true", "priority": priority, "limit": 500})  # fmt: skip

    @task(4)
    def metric_page(self) -> None:
        key = random.choice(city["metrics"])
        base = f"/api/metrics/metrics/{key}"
        self.get("static /public/metric.html", "/public/metric.html")
        self.get("public-api /api/metrics/metrics/[key]", base)
        self.get("public-api /api/metrics/metrics/[key]/performance", f"{base}/performance")
        self.get("public-api /api/metrics/metrics/[key]/observations", f"{base}/observations",
                 {"start": "2013-01", "limit": 500})  # fmt: skip
        self.get("public-api /api/metrics/metrics/[key]/targets", f"{base}/targets", {"limit": 500})
        self.get("public-api /api/metrics/open-datasets", "/api/metrics/open-datasets")
        self.get("public-api /api/metrics/metrics/[key]/cost-per-output", f"{base}/cost-per-output")

    @task(1)
    def metric_download(self) -> None:
        key = random.choice(city["metrics"])
        kind = random.choice(["csv", "json"])
        self.get(f"public-api /api/metrics/metrics/[key]/series.{kind}", f"/api/metrics/metrics/{key}/series.{kind}")

    @task(2)
    def budget(self) -> None:
        self.get("static /public/budget.html", "/public/budget.html")
        self.get("public-api /api/metrics/budget/years", "/api/metrics/budget/years")
        year = random.choice(city["fiscal_years"])
        for by in ("department", "fund", "category"):
            self.get("public-api /api/metrics/budget/summary", "/api/metrics/budget/summary",
                     {"year": year, "by": by, "kind": "expense"})  # fmt: skip

    @task(1)
    def hearing(self) -> None:
        code = random.choice(city["active_departments"])
        self.get("static /public/hearing.html", "/public/hearing.html")
        self.get("public-api /api/metrics/budget/hearings/[code]", f"/api/metrics/budget/hearings/{code}")

    @task(1)
    def catalogue(self) -> None:
        self.get("static /public/catalogue.html", "/public/catalogue.html")
        self.get("public-api /api/metrics/open-datasets", "/api/metrics/open-datasets")

    @task(2)
    def scorecards(self) -> None:
        self.get("public-api /api/reporting/scorecards", "/api/reporting/scorecards")
        code = random.choice(city["metric_departments"])
        path = f"/api/reporting/departments/{code}/scorecard"
        self.get("public-api /api/reporting/departments/[code]/scorecard", path)

    @task(1)
    def assets(self) -> None:
        # A first visit's style sheet and scripts; later ones come from the browser's cache.
        for path in ("/public/css/public.css", "/public/js/common.js", "/public/js/charts.js", "/js/api.js"):
            self.get(f"static {path}", path)


class Staff(CityUser):
    """A member of staff signed in once with their own demo account, reading the pages of the staff app."""

    weight = 2
    wait_time = between(5, 15)

    def on_start(self) -> None:
        super().on_start()
        accounts = city["accounts"]
        self.username = accounts[next(_accounts) % len(accounts)]
        code = self.username.split(".")[0].upper()
        self.department = code if code in city["departments"] else None
        self.client.post(
            "/api/ingest/auth/login",
            json={"username": self.username, "password": DEMO_PASSWORD},
            name="sign-in POST /api/ingest/auth/login",
            headers={"X-Forwarded-For": self.address},
        )
        # Signing in lands on the home board, and the first thing looked at there is a metric.
        self.home()
        self.metric()

    def header(self) -> None:
        """What every staff page's header asks: who is signed in, and how many notifications are unread."""
        self.get("reporting /api/ingest/auth/me", "/api/ingest/auth/me")
        self.get("reporting /api/ingest/notifications", "/api/ingest/notifications", {"limit": 1})

    def own_or_any_department(self) -> str:
        if self.department in city["metric_departments"]:
            return self.department
        return random.choice(city["metric_departments"])

    @task(4)
    def home(self) -> None:
        self.get("static /index.html", "/index.html")
        self.header()
        self.get("reporting /api/reporting/home", "/api/reporting/home")

    @task(3)
    def scorecards(self) -> None:
        self.get("static /departments.html", "/departments.html")
        self.header()
        params = {"limit": 500, "offset": 0}
        if random.random() < 0.3:
            params["period"] = _month()
        self.get("reporting /api/reporting/scorecards", "/api/reporting/scorecards", params)

    @task(3)
    def department(self) -> None:
        code = self.own_or_any_department()
        self.get("static /department.html", "/department.html")
        self.header()
        path = f"/api/reporting/departments/{code}/scorecard"
        self.get("reporting /api/reporting/departments/[code]/scorecard", path)

    @task(4)
    def metric(self) -> None:
        code = self.own_or_any_department()
        found = self.client.get(
            "/api/metrics/metrics",
            params={"department": code, "limit": 500, "offset": 0},
            name="series /api/metrics/metrics?department",
            headers={"X-Forwarded-For": self.address},
        )
        keys = [m["key"] for m in found.json()["items"]] if found.status_code == 200 else []
        if not keys:
            return
        key = random.choice(keys)
        base = f"/api/metrics/metrics/{key}"
        self.get("static /metric.html", "/metric.html")
        self.header()
        self.get("series /api/metrics/metrics/[key]", base)
        self.get("series /api/metrics/metrics/[key]/observations", f"{base}/observations", {"limit": 500, "offset": 0})
        self.get("series /api/metrics/metrics/[key]/targets", f"{base}/targets", {"limit": 500, "offset": 0})
        self.get("series /api/metrics/metrics/[key]/performance", f"{base}/performance")
        self.get("series /api/metrics/metrics/[key]/annotations", f"{base}/annotations", {"limit": 500, "offset": 0})
        self.get("series /api/metrics/metrics/[key]/versions", f"{base}/versions")

    @task(1)
    def series_download(self) -> None:
        key = random.choice(city["metrics"])
        self.get("series /api/metrics/metrics/[key]/series.json", f"/api/metrics/metrics/{key}/series.json")

    @task(2)
    def briefings(self) -> None:
        self.get("static /briefings.html", "/briefings.html")
        self.header()
        page = {"limit": 500, "offset": 0}
        self.get("reporting /api/metrics/departments", "/api/metrics/departments", page)
        self.get("reporting /api/reporting/briefings", "/api/reporting/briefings", page)
        self.get("reporting /api/reporting/meetings", "/api/reporting/meetings", page)
        self.get("reporting /api/reporting/meetings?upcoming", "/api/reporting/meetings", {**page, "upcoming": "true"})

    @task(2)
    def meetings(self) -> None:
        self.get("static /meetings.html", "/meetings.html")
        self.header()
        page = {"limit": 500, "offset": 0}
        self.get("reporting /api/metrics/departments", "/api/metrics/departments", page)
        params = {**page, "department": self.department} if self.department else page
        self.get("reporting /api/reporting/meetings", "/api/reporting/meetings", params)
