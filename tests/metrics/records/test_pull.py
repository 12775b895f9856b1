"""Pull connectors against a city feed served over real HTTP on loopback: an Open311 GeoReport v2 endpoint that
honours updated_after (and page/page_size), and a CSV export that honours a since parameter. Only what changed
comes the second time, records are updated in place, refused hosts are refused at save and at pull time, a failing
source leaves the cursor where it was, and the scheduler pulls a due profile by itself."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.metrics.records.models import MappingProfile, RawRecord
from services.metrics.records.profiles import BUILTIN_PROFILES
from services.runner import create_root_app
from tests.conftest import free_port
from tests.factories import make_department, make_user, sign_in

M = "/api/metrics"
LOOPBACK = "127.0.0.1"


# --- the city's feed, over real HTTP -----------------------------------------------------------------------------


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Feed:
    """What the city's servers hold, and every request they received (path and query)."""

    def __init__(self) -> None:
        self.open311: dict[str, dict] = {}
        self.export: dict[str, dict] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.fail_with: int | None = None
        self.html = False
        self.lock = threading.Lock()
        self.base = ""

    def queries(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [query for seen, query in self.seen if seen == path]

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes, dict[str, str]]:
        with self.lock:
            self.seen.append((path, query))
            if path == "/elsewhere":
                # Off to a host name the allow-list does not have (the same server, as "localhost").
                return 302, "text/plain", b"", {"Location": self.base.replace(LOOPBACK, "localhost") + "/requests"}
            if path == "/moved":
                return 301, "text/plain", b"", {"Location": "/open311/requests.json?jurisdiction_id=atl"}
            if self.fail_with is not None:
                body = json.dumps([{"code": self.fail_with, "description": "the 311 database is down"}])
                return self.fail_with, "application/json", body.encode(), {}
            if self.html:
                return 200, "text/html", b"<html><body>Scheduled maintenance</body></html>", {}
            if path == "/open311/requests.json":
                return 200, "application/json", self._open311(query), {}
            if path == "/export/requests.csv":
                return 200, "text/csv", self._export(query), {}
        return 404, "text/plain", b"not here", {}

    def _open311(self, query: dict[str, str]) -> bytes:
        items = sorted(self.open311.values(), key=lambda r: (_moment(r["updated_datetime"]), r["service_request_id"]))
        if "updated_after" in query:
            after = _moment(query["updated_after"])
            items = [r for r in items if _moment(r["updated_datetime"]) > after]
        if "page_size" in query:
            size, page = int(query["page_size"]), int(query.get("page", "1"))
            items = items[(page - 1) * size : page * size]
        return json.dumps(items).encode()

    def _export(self, query: dict[str, str]) -> bytes:
        rows = list(self.export.values())
        if "changed_since" in query:
            since = _moment(query["changed_since"])
            rows = [r for r in rows if _moment(r["changed"]) > since]
        out = io.StringIO()
        writer = csv.DictWriter(out, ["id", "department", "category", "status", "opened", "closed", "changed"])
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()


@pytest.fixture
def feed() -> Iterator[Feed]:
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            status, media, body, headers = state.answer(parts.path, dict(parse_qsl(parts.query)))
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    state.base = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def service_request(number: str, requested: str, updated: str, status: str = "open", agency: str = "Public Works"):
    return {
        "service_request_id": number,
        "status": status,
        "service_code": "STREETLIGHT",
        "service_name": "Street light out",
        "agency_responsible": agency,
        "requested_datetime": requested,
        "updated_datetime": updated,
        "expected_datetime": None,
        "lat": 33.7537,
        "long": -84.3863,
        "address": "55 Trinity Ave SW",
    }


# --- the application, allowed to reach the loopback feed -----------------------------------------------------------


@contextmanager
def app_with(settings, **changes) -> Iterator[TestClient]:
    changes = {"pull_allowed_hosts": [LOOPBACK], "pull_poll_seconds": 3600.0, **changes}
    with TestClient(create_root_app(settings.model_copy(update=changes)), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def city(metrics_db, ingest_db) -> None:
    with metrics_db.session() as session:
        make_department(session, "DPW", "Public Works")
        make_department(session, "DWM", "Watershed Management")
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lee", "liaison", department="DPW")


@pytest.fixture
def office(settings, city) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with app_with(settings) as client:
        yield client, sign_in(client, "ana")


def open311_profile(url: str, **connector) -> dict:
    definition = BUILTIN_PROFILES["open311"].model_dump(mode="json")
    definition["departments"] = {"Public Works": "DPW", "Watershed": "DWM"}
    definition["source_connector"] = {
        "kind": "open311",
        "url": url,
        "every_minutes": 60,
        "params": {"jurisdiction_id": "atl"},
        **connector,
    }
    return {"description": "Atlanta's Open311 endpoint", "definition": definition}


def export_profile(url: str) -> dict:
    return {
        "definition": {
            "time_zone": "America/New_York",
            "timestamp_formats": ["%Y-%m-%d %H:%M:%S"],
            "fields": {
                "record_id": ["id"],
                "agency": ["department"],
                "category": ["category"],
                "status": ["status"],
                "opened_at": ["opened"],
                "closed_at": ["closed"],
            },
            "source_connector": {"kind": "csv", "url": url, "every_minutes": 1440, "since_param": "changed_since"},
        }
    }


def put_profile(client, csrf, name: str, body: dict):
    return client.put(f"{M}/mapping-profiles/{name}", json=body, headers=csrf)


def define(client, csrf, name: str, body: dict) -> None:
    answer = put_profile(client, csrf, name, body)
    assert answer.status_code == 201, answer.text


def export_row(number: str, status: str, opened: str, closed: str, changed: str) -> dict:
    return {"id": number, "department": "DPW", "category": "Pothole", "status": status, "opened": opened,
            "closed": closed, "changed": changed}  # fmt: skip


def pull(client, csrf, name: str, **params):
    return client.post(f"{M}/mapping-profiles/{name}/pull", params=params, headers=csrf)


def pulls(client, name: str) -> dict:
    answer = client.get(f"{M}/mapping-profiles/{name}/pulls")
    assert answer.status_code == 200, answer.text
    return answer.json()


def records(metrics_db) -> dict[str, RawRecord]:
    with metrics_db.session(write=False) as session:
        return {r.record_id: r for r in session.exec(select(RawRecord))}


def stored_profile(metrics_db, name: str) -> MappingProfile:
    with metrics_db.session(write=False) as session:
        return session.get(MappingProfile, name)


# --- tests --------------------------------------------------------------------------------------------------------


def test_an_open311_endpoint_is_pulled_then_only_what_changed_comes(office, feed, metrics_db):
    client, csrf = office
    feed.open311 = {
        "1001": service_request("1001", "2017-06-01T09:00:00-04:00", "2017-06-01T09:00:00-04:00"),
        "1002": service_request("1002", "2017-06-02T10:00:00-04:00", "2017-06-03T12:30:00-04:00", "closed"),
    }
    answer = put_profile(client, csrf, "atl-open311", open311_profile(f"{feed.base}/open311/requests.json"))
    assert answer.status_code == 201, answer.text

    first = pull(client, csrf, "atl-open311")
    assert first.status_code == 200, first.text
    job = first.json()
    assert job["status"] == "done", job
    assert job["id"].startswith("pull-atl-open311-")
    assert (job["actor"], job["mapping"], job["dataset"]) == ("pull:atl-open311", "atl-open311", "service_requests")
    assert (job["rows_read"], job["accepted"], job["updated"], job["rejected"]) == (2, 2, 0, 0)
    # The first pull asks for everything, with the connector's fixed parameters.
    assert feed.queries("/open311/requests.json") == [{"jurisdiction_id": "atl"}]
    # The job is an ordinary import job.
    assert client.get(f"{M}/record-imports/{job['id']}").json() == job

    loaded = records(metrics_db)
    assert set(loaded) == {"1001", "1002"}
    assert {r.department for r in loaded.values()} == {"DPW"}
    assert loaded["1002"].closed_at == dt.datetime(2017, 6, 3, 16, 30, tzinfo=dt.UTC)
    assert loaded["1001"].closed_at is None

    history = pulls(client, "atl-open311")
    assert history["cursor"] == "2017-06-03T12:30:00-04:00"  # the feed's own latest updated_datetime, as it wrote it
    assert history["host_allowed"] is True
    assert history["source"]["since_param"] == "updated_after"
    last = dt.datetime.fromisoformat(history["last_pulled_at"])
    assert dt.datetime.fromisoformat(history["next_pull_at"]) == last + dt.timedelta(minutes=60)
    assert [item["id"] for item in history["items"]] == [job["id"]] and history["total"] == 1

    # The city closes 1001 and a new request comes in; 1002 is untouched.
    feed.open311["1001"] = service_request("1001", "2017-06-01T09:00:00-04:00", "2017-06-05T08:00:00-04:00", "closed")
    feed.open311["1003"] = service_request(
        "1003", "2017-06-04T14:00:00-04:00", "2017-06-04T14:00:00-04:00", agency="Watershed"
    )
    second = pull(client, csrf, "atl-open311").json()
    assert feed.queries("/open311/requests.json")[-1] == {
        "jurisdiction_id": "atl",
        "updated_after": "2017-06-03T12:30:00-04:00",
    }
    assert second["status"] == "done", second
    assert (second["rows_read"], second["accepted"], second["updated"], second["unchanged"]) == (2, 1, 1, 0)
    loaded = records(metrics_db)
    assert len(loaded) == 3  # updated in place, not doubled
    assert loaded["1001"].status == "closed"
    assert loaded["1001"].closed_at == dt.datetime(2017, 6, 5, 12, 0, tzinfo=dt.UTC)
    assert loaded["1003"].department == "DWM"

    # Nothing changed since: a pull that worked and loaded nothing; the cursor stays, the pull time moves.
    before = stored_profile(metrics_db, "atl-open311")
    assert before.pull_cursor == "2017-06-05T08:00:00-04:00"
    third = pull(client, csrf, "atl-open311").json()
    assert (third["status"], third["rows_read"], third["accepted"]) == ("done", 0, 0)
    assert feed.queries("/open311/requests.json")[-1]["updated_after"] == "2017-06-05T08:00:00-04:00"
    after = stored_profile(metrics_db, "atl-open311")
    assert after.pull_cursor == before.pull_cursor
    assert after.last_pulled_at > before.last_pulled_at
    assert [item["id"] for item in pulls(client, "atl-open311")["items"]] == [third["id"], second["id"], job["id"]]

    # A full pull ignores the cursor, and the upsert leaves every record as it was.
    full = pull(client, csrf, "atl-open311", full="true").json()
    assert "updated_after" not in feed.queries("/open311/requests.json")[-1]
    assert (full["status"], full["unchanged"], full["accepted"], full["updated"]) == ("done", 3, 0, 0)
    assert stored_profile(metrics_db, "atl-open311").pull_cursor == "2017-06-05T08:00:00-04:00"


def test_a_csv_export_is_asked_for_changes_since_the_latest_time_it_gave(office, feed, metrics_db):
    client, csrf = office
    feed.export = {
        "X1": export_row("X1", "Closed", "2017-06-01 08:00:00", "2017-06-02 09:00:00", "2017-06-02T13:00:00+00:00"),
        "X2": export_row("X2", "Open", "2017-06-03 10:00:00", "", "2017-06-03T14:00:00+00:00"),
    }
    define(client, csrf, "dpw-export", export_profile(f"{feed.base}/export/requests.csv"))
    first = pull(client, csrf, "dpw-export").json()
    assert (first["status"], first["accepted"]) == ("done", 2), first
    assert feed.queries("/export/requests.csv") == [{}]
    # The latest open or close time loaded (X2 opened at 10:00 in New York), in UTC.
    assert pulls(client, "dpw-export")["cursor"] == "2017-06-03T14:00:00+00:00"

    feed.export["X2"].update(status="Closed", closed="2017-06-06 16:00:00", changed="2017-06-06T20:00:00+00:00")
    feed.export["X3"] = export_row("X3", "Open", "2017-06-05 07:30:00", "", "2017-06-05T11:30:00+00:00")
    second = pull(client, csrf, "dpw-export").json()
    # The '+' of the offset arrives as a '+', not as a space.
    assert feed.queries("/export/requests.csv")[-1] == {"changed_since": "2017-06-03T14:00:00+00:00"}
    assert (second["rows_read"], second["accepted"], second["updated"]) == (2, 1, 1), second
    loaded = records(metrics_db)
    assert len(loaded) == 3
    assert loaded["X2"].closed_at == dt.datetime(2017, 6, 6, 20, 0, tzinfo=dt.UTC)
    assert pulls(client, "dpw-export")["cursor"] == "2017-06-06T20:00:00+00:00"


def test_open311_pages_are_fetched_until_a_short_one(office, feed, metrics_db):
    client, csrf = office
    feed.open311 = {
        str(n): service_request(str(n), f"2017-06-0{n}T09:00:00-04:00", f"2017-06-0{n}T09:00:00-04:00")
        for n in range(1, 6)
    }
    body = open311_profile(f"{feed.base}/open311/requests.json", params={"jurisdiction_id": "atl", "page_size": "2"})
    define(client, csrf, "paged", body)
    job = pull(client, csrf, "paged").json()
    assert (job["status"], job["rows_read"], job["accepted"]) == ("done", 5, 5), job
    assert [q.get("page") for q in feed.queries("/open311/requests.json")] == ["1", "2", "3"]
    assert {q["page_size"] for q in feed.queries("/open311/requests.json")} == {"2"}
    assert len(records(metrics_db)) == 5
    assert pulls(client, "paged")["cursor"] == "2017-06-05T09:00:00-04:00"


def test_a_host_not_allowed_is_refused_when_the_profile_is_saved(client, office, feed, metrics_db):
    allowed_client, csrf = office
    elsewhere = open311_profile(feed.base.replace(LOOPBACK, "localhost") + "/open311/requests.json")
    answer = put_profile(allowed_client, csrf, "elsewhere", elsewhere)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"] == [
        {"field": "definition.source_connector.url", "reason": "the host 'localhost' is not in the "
         "pull_allowed_hosts setting (127.0.0.1)"}
    ]  # fmt: skip
    assert stored_profile(metrics_db, "elsewhere") is None

    # With no host allowed at all (the default), no source can be saved.
    office_csrf = sign_in(client, "ana")
    answer = put_profile(client, office_csrf, "loopback", open311_profile(f"{feed.base}/open311/requests.json"))
    assert answer.status_code == 422
    assert "pull_allowed_hosts setting lists no host" in answer.json()["errors"][0]["reason"]
    assert feed.seen == []


def test_a_host_no_longer_allowed_is_refused_at_pull_time_and_nothing_is_asked(settings, city, feed, metrics_db):
    with app_with(settings) as client:
        csrf = sign_in(client, "ana")
        define(client, csrf, "atl", open311_profile(f"{feed.base}/open311/requests.json"))
    # The operator narrows the allow-list; the profile saved before is not pulled.
    with app_with(settings, pull_allowed_hosts=["open311.atlantaga.gov"]) as client:
        csrf = sign_in(client, "ana")
        answer = pull(client, csrf, "atl")
        assert answer.status_code == 422, answer.text
        assert "'127.0.0.1' is not in the pull_allowed_hosts setting" in answer.json()["errors"][0]["reason"]
        history = pulls(client, "atl")
        assert (history["host_allowed"], history["total"]) == (False, 0)
    assert feed.seen == []


def test_a_redirect_to_another_host_is_not_followed(office, feed, metrics_db):
    client, csrf = office
    feed.open311 = {"1": service_request("1", "2017-06-01T09:00:00-04:00", "2017-06-01T09:00:00-04:00")}
    define(client, csrf, "hop", open311_profile(f"{feed.base}/elsewhere"))
    job = pull(client, csrf, "hop").json()
    assert job["status"] == "failed"
    assert "redirected to the host 'localhost'" in job["error"] and "not followed" in job["error"]
    assert [path for path, _ in feed.seen] == ["/elsewhere"]  # never asked at the other host
    assert records(metrics_db) == {}
    assert stored_profile(metrics_db, "hop").last_pulled_at is None

    # A redirect within an allowed host is followed.
    define(client, csrf, "moved", open311_profile(f"{feed.base}/moved"))
    job = pull(client, csrf, "moved").json()
    assert (job["status"], job["accepted"]) == ("done", 1), job


def test_a_failing_source_records_a_failed_job_and_leaves_the_cursor(office, feed, metrics_db):
    client, csrf = office
    feed.open311 = {"1": service_request("1", "2017-06-01T09:00:00-04:00", "2017-06-01T09:00:00-04:00")}
    define(client, csrf, "atl", open311_profile(f"{feed.base}/open311/requests.json"))
    assert pull(client, csrf, "atl").json()["status"] == "done"
    good = stored_profile(metrics_db, "atl")
    assert good.pull_cursor == "2017-06-01T09:00:00-04:00"

    feed.open311["1"] = service_request("1", "2017-06-01T09:00:00-04:00", "2017-06-02T09:00:00-04:00", "closed")
    feed.fail_with = 500
    answer = pull(client, csrf, "atl")
    assert answer.status_code == 200, answer.text
    failed = answer.json()
    assert failed["status"] == "failed"
    assert "answered 500" in failed["error"] and "the 311 database is down" in failed["error"]
    assert feed.queries("/open311/requests.json")[-1]["updated_after"] == "2017-06-01T09:00:00-04:00"
    feed.fail_with = None
    feed.html = True
    garbled = pull(client, csrf, "atl").json()
    assert garbled["status"] == "failed" and "not JSON" in garbled["error"]
    feed.html = False

    after = stored_profile(metrics_db, "atl")
    assert (after.pull_cursor, after.last_pulled_at) == (good.pull_cursor, good.last_pulled_at)
    assert records(metrics_db)["1"].status == "open"
    assert [item["status"] for item in pulls(client, "atl")["items"]] == ["failed", "failed", "done"]

    # The source is back: the next pull asks from the same point, so the change is not lost.
    recovered = pull(client, csrf, "atl").json()
    assert feed.queries("/open311/requests.json")[-1]["updated_after"] == "2017-06-01T09:00:00-04:00"
    assert (recovered["status"], recovered["updated"]) == ("done", 1)
    assert records(metrics_db)["1"].status == "closed"


def test_a_source_that_cannot_be_reached_fails_the_job(office, feed, metrics_db):
    client, csrf = office
    closed_port = f"http://{LOOPBACK}:{free_port()}/requests.json"
    define(client, csrf, "down", open311_profile(closed_port))
    job = pull(client, csrf, "down").json()
    assert job["status"] == "failed"
    assert "could not be reached" in job["error"]
    assert stored_profile(metrics_db, "down").pull_cursor is None


def test_only_the_performance_office_pulls_and_profiles_without_a_source_are_refused(office, feed):
    client, csrf = office
    define(client, csrf, "atl", open311_profile(f"{feed.base}/open311/requests.json"))
    answer = pull(client, csrf, "nyc311")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "definition.source_connector"
    assert pull(client, csrf, "no-such-profile").status_code == 404

    liaison = sign_in(client, "lee")
    assert pull(client, liaison, "atl").status_code == 403
    assert feed.seen == []
    # The built-in profiles have no source; their history is empty rather than missing.
    history = pulls(client, "nyc311")
    assert (history["source"], history["total"], history["host_allowed"]) == (None, 0, False)


def test_the_scheduler_pulls_a_due_profile_by_itself(settings, city, feed, metrics_db):
    feed.open311 = {
        "1": service_request("1", "2017-06-01T09:00:00-04:00", "2017-06-01T09:00:00-04:00"),
        "2": service_request("2", "2017-06-02T09:00:00-04:00", "2017-06-02T10:00:00-04:00", "closed"),
    }
    with app_with(settings, pull_poll_seconds=0.1) as client:
        csrf = sign_in(client, "ana")
        define(client, csrf, "atl", open311_profile(f"{feed.base}/open311/requests.json"))
        deadline = time.monotonic() + 20
        history = pulls(client, "atl")
        # The job reads "done" as soon as its records are in; the cursor moves in the transaction after it.
        while not (
            history["items"] and history["items"][0]["status"] == "done" and history["cursor"] is not None
        ) and time.monotonic() < deadline:
            time.sleep(0.1)
            history = pulls(client, "atl")
        assert history["items"] and history["items"][0]["status"] == "done", history
        assert history["items"][0]["accepted"] == 2
        assert history["cursor"] == "2017-06-02T10:00:00-04:00"
        assert len(records(metrics_db)) == 2
        # Pulled once; not again before every_minutes have passed, however often the scheduler looks.
        time.sleep(1.0)
        assert pulls(client, "atl")["total"] == 1
        assert len(feed.queries("/open311/requests.json")) == 1


def test_a_change_time_in_the_future_does_not_become_the_cursor(office, feed, metrics_db):
    client, csrf = office
    feed.open311 = {
        "1": service_request("1", "2017-06-01T09:00:00-04:00", "2017-06-01T09:30:00-04:00"),
        # A server's bad clock or bad data: taken as the cursor, it would hide every change until 2099.
        "2": service_request("2", "2017-06-02T09:00:00-04:00", "2099-01-01T00:00:00+00:00"),
    }
    define(client, csrf, "atl", open311_profile(f"{feed.base}/open311/requests.json"))
    job = pull(client, csrf, "atl").json()
    assert (job["status"], job["accepted"]) == ("done", 2)
    assert stored_profile(metrics_db, "atl").pull_cursor == "2017-06-01T09:30:00-04:00"


def test_a_new_source_starts_from_the_beginning(office, feed, metrics_db):
    client, csrf = office
    feed.open311 = {"1": service_request("1", "2017-06-01T09:00:00-04:00", "2017-06-01T09:00:00-04:00")}
    body = open311_profile(f"{feed.base}/open311/requests.json")
    define(client, csrf, "atl", body)
    pull(client, csrf, "atl")
    # Another description or schedule keeps where the pulls got to...
    body["description"] = "renamed"
    body["definition"]["source_connector"]["every_minutes"] = 15
    assert put_profile(client, csrf, "atl", body).status_code == 200
    assert stored_profile(metrics_db, "atl").pull_cursor == "2017-06-01T09:00:00-04:00"
    # ...another source does not: its changes are not the old one's.
    moved = open311_profile(f"{feed.base}/moved")
    assert put_profile(client, csrf, "atl", moved).status_code == 200
    profile = stored_profile(metrics_db, "atl")
    assert (profile.pull_cursor, profile.last_pulled_at) == (None, None)
