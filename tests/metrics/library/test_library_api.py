"""The library over HTTP: the performance office imports San Francisco's measures and adopts one as a draft."""

import csv
import io
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.metrics.audit.models import AuditEvent
from services.metrics.definitions.models import Metric, MetricRevision
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.library.source import SF_MEASURES_PATH, SF_SOURCE, read_sf_measures
from tests.factories import make_department, make_user, sign_in

# The real file lives beside the repository and is never copied into it; without it these tests fail.
REAL_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "measures" / SF_MEASURES_PATH.name
ROWS_IN_FILE = 1002
API = "/api/metrics/library"
CSV = {"Content-Type": "text/csv"}
PROBLEM = "application/problem+json"
MEMBERS = "AAM.EEI.01.1.1"  # row 2: "Number of museum members", Asian Art Museum


@pytest.fixture(scope="module")
def sf_file() -> bytes:
    return REAL_FILE.read_bytes()


def _count(metrics_db, model) -> int:
    with metrics_db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _analyst(client, ingest_db) -> dict[str, str]:
    make_user(ingest_db, "ana.lyst", "analyst")
    return sign_in(client, "ana.lyst")


def _import(client, headers, data: bytes, **params):
    return client.post(f"{API}/imports", content=data, headers={**headers, **CSV}, params=params)


def _measure(client, code: str = MEMBERS) -> dict:
    items, offset, total = [], 0, 1
    while offset < total:
        page = client.get(f"{API}/measures", params={"limit": 500, "offset": offset})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        total = page.json()["total"]
        offset += 500
    (measure,) = [m for m in items if m["source_code"] == code]
    return measure


def test_an_analyst_imports_the_sf_file_and_a_reimport_updates_without_repeating(
    client, ingest_db, metrics_db, sf_file
):
    headers = _analyst(client, ingest_db)
    first = _import(client, headers, sf_file, file_name="sf_fy13.csv")
    assert first.status_code == 201, first.text
    summary = first.json()
    assert summary["rows"] == ROWS_IN_FILE
    assert summary["imported"] >= 0.95 * ROWS_IN_FILE
    assert summary["updated"] == 0
    assert summary["imported"] + summary["updated"] + len(summary["rejected"]) == ROWS_IN_FILE
    assert summary["source"] == SF_SOURCE and summary["file_name"] == "sf_fy13.csv"
    assert summary["actor"].startswith("user:")
    rows_seen = [r["row"] for r in summary["rejected"]]
    assert rows_seen == sorted(set(rows_seen)) and all(2 <= row <= ROWS_IN_FILE + 1 for row in rows_seen)
    for rejection in summary["rejected"]:
        assert rejection["field"].strip() and len(rejection["reason"]) > 20, rejection
    assert _count(metrics_db, LibraryMeasure) == summary["imported"]

    again = _import(client, headers, sf_file)
    assert again.status_code == 201, again.text
    second = again.json()
    assert (second["imported"], second["updated"]) == (0, summary["imported"])
    assert second["rejected"] == summary["rejected"] and second["rows"] == ROWS_IN_FILE
    # Updated in place: no measure twice, and each now belongs to the latest import.
    assert _count(metrics_db, LibraryMeasure) == summary["imported"]
    with metrics_db.session(write=False) as s:
        assert set(s.exec(select(LibraryMeasure.import_id)).all()) == {second["id"]}
        assert s.exec(select(func.count(func.distinct(LibraryMeasure.source_code)))).one() == summary["imported"]
        audited = s.exec(select(AuditEvent).where(AuditEvent.action == "library.imported")).all()
    assert [(e.subject, e.detail["imported"], e.detail["updated"]) for e in audited] == [
        (f"library_import:{summary['id']}", summary["imported"], 0),
        (f"library_import:{second['id']}", 0, summary["imported"]),
    ]

    listed = client.get(f"{API}/imports").json()
    assert listed["total"] == 2 and [run["id"] for run in listed["items"]] == [second["id"], summary["id"]]
    assert client.get(f"{API}/imports/{summary['id']}").json() == summary
    assert client.get(f"{API}/imports/999999").status_code == 404


def test_a_measure_keeps_its_source_department_unit_direction_and_targets(client, ingest_db, sf_file):
    headers = _analyst(client, ingest_db)
    assert _import(client, headers, sf_file).status_code == 201
    measure = _measure(client)
    assert client.get(f"{API}/measures/{measure['id']}").json() == measure
    assert measure | {"id": 0, "import_id": 0, "imported_at": None, "methodology": ""} == {
        "id": 0,
        "source": SF_SOURCE,
        "source_code": MEMBERS,
        "source_row": 2,
        "jurisdiction": "San Francisco",
        "department_code": "AAM",
        "department_name": "Asian Art Museum",
        "program": "ASIAN ART MUSEUM",
        "goal": "Increase museum membership",
        "name": "Number of museum members",
        "description": (
            "Total number of AAM members: includes general membership up to levels of $3,000 and above, "
            "as of the last day of the period."
        ),
        "methodology": "",
        "unit": "number",
        "unit_text": "General",
        "direction": "higher_is_better",
        "owner": "Trujillo, Adrian",
        "actuals": {"FY2011": 14755.0, "FY2012": 13725.0, "FY2013": 17066.0},
        "targets": {"FY2013": 16000.0, "FY2014": 14995.0, "FY2015": 15300.0},
        "notes": ["Major Service Area: Culture & Recreation."],
        "import_id": 0,
        "imported_at": None,
        "adopted_as": [],
    }
    assert measure["methodology"].startswith("Collection Method: Records are developed")
    assert client.get(f"{API}/measures/999999").status_code == 404


def test_measures_filter_by_department_direction_and_words_in_name_or_program(client, ingest_db, sf_file):
    measures = read_sf_measures(sf_file).measures
    headers = _analyst(client, ingest_db)
    assert _import(client, headers, sf_file).status_code == 201

    def total(**params) -> int:
        response = client.get(f"{API}/measures", params=params)
        assert response.status_code == 200, response.text
        return response.json()["total"]

    assert total() == len(measures)
    assert total(department="DPW") == sum(m.department_code == "DPW" for m in measures) > 0
    assert total(department="dpw") == total(department="DPW")
    lower = sum(m.direction == "lower_is_better" for m in measures)
    assert total(direction="lower_is_better") == lower > 0
    assert total(jurisdiction="san francisco") == len(measures) and total(jurisdiction="Atlanta") == 0
    for word in ("MUSEUM MEMBERS", "library", "%", "_"):
        expected = sum(word.lower() in m.name.lower() or word.lower() in m.program.lower() for m in measures)
        assert total(q=word) == expected, word
    assert total(q="museum members") >= 1
    # A program's words find its measures even when the measure's name does not say them.
    by_program = total(q="asian art museum")
    assert (
        by_program
        == sum("asian art museum" in m.name.lower() or "asian art museum" in m.program.lower() for m in measures)
        > total(q="museum members")
    )

    page = client.get(f"{API}/measures", params={"department": "DPW", "limit": 3, "offset": 2}).json()
    everything = client.get(f"{API}/measures", params={"department": "DPW"}).json()
    assert [m["id"] for m in page["items"]] == [m["id"] for m in everything["items"][2:5]]
    assert {m["department_code"] for m in everything["items"]} == {"DPW"}


def test_only_the_performance_office_imports_and_only_staff_read(client, ingest_db, metrics_db, sf_file):
    with metrics_db.session() as s:
        make_department(s, "DPW", "Public Works")
    anonymous = _import(client, {}, sf_file)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith(PROBLEM)
    for path in ("/imports", "/imports/1", "/measures", "/measures/1"):
        assert client.get(f"{API}{path}").status_code == 401, path

    for username, role, department in (
        ("vic.viewer", "viewer", None),
        ("lia.liaison", "liaison", "DPW"),
        ("hed.head", "head", "DPW"),
    ):
        make_user(ingest_db, username, role, department)
        client.cookies.clear()
        headers = sign_in(client, username)
        refused = _import(client, headers, sf_file)
        assert refused.status_code == 403, (role, refused.text)
        assert refused.headers["content-type"].startswith(PROBLEM)
        # Reading the library is open to every signed-in staff member.
        assert client.get(f"{API}/measures").json() == {"items": [], "total": 0}
        assert client.get(f"{API}/imports").json() == {"items": [], "total": 0}
    assert _count(metrics_db, LibraryImport) == 0 and _count(metrics_db, LibraryMeasure) == 0

    client.cookies.clear()
    headers = _analyst(client, ingest_db)
    # The session cookie alone is not enough for a write: the CSRF header must come with it.
    assert client.post(f"{API}/imports", content=sf_file, headers=CSV).status_code == 403
    assert _count(metrics_db, LibraryImport) == 0


def test_a_file_of_the_wrong_type_or_unreadable_is_refused_and_nothing_is_stored(
    client, ingest_db, metrics_db, sf_file
):
    headers = _analyst(client, ingest_db)
    wrong_type = client.post(f"{API}/imports", content=sf_file, headers={**headers, "Content-Type": "application/json"})
    assert wrong_type.status_code == 415, wrong_type.text
    assert wrong_type.headers["content-type"].startswith(PROBLEM)
    assert client.post(f"{API}/imports", content=sf_file, headers=headers).status_code == 415

    no_columns = _import(client, headers, b"name,value\nPotholes,12\n")
    assert no_columns.status_code == 422
    problem = no_columns.json()
    assert problem["type"] == "urn:citystat:problem:library-file-invalid"
    assert "KPI_CODE" in problem["detail"]
    assert {e["field"] for e in problem["errors"]} >= {"Dept", "KPI_CODE", "Performance Pattern"}
    for broken in (b"", b"\n\n", sf_file[:2000].decode().encode("utf-16"), sf_file.replace(b"\n", b"\x00\n", 3)):
        answer = _import(client, headers, broken)
        assert answer.status_code == 422, (broken[:40], answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM)
    assert _count(metrics_db, LibraryImport) == 0 and _count(metrics_db, LibraryMeasure) == 0
    with metrics_db.session(write=False) as s:
        assert s.exec(select(AuditEvent)).all() == []


def test_the_whole_file_fits_the_upload_limit_but_not_the_json_limit(client, ingest_db, settings, sf_file):
    # The SF export is larger than the limit for ordinary requests, which is why the route has its own.
    assert settings.max_body_bytes < len(sf_file) < settings.max_upload_bytes
    headers = _analyst(client, ingest_db)
    too_large = _import(client, headers, b"x" * (settings.max_upload_bytes + 1))
    assert too_large.status_code == 413


def _adopt(client, headers, measure_id, **body):
    # Membership on the period's last day is a stock: a year's value is its last, not a sum.
    payload = {
        "department": "CUL",
        "key": "cul.museum_members",
        "frequency": "fiscal_year",
        "kind": "output",
        "rollup": "last",
    }
    return client.post(f"{API}/measures/{measure_id}/adopt", json={**payload, **body}, headers=headers)


def test_an_analyst_adopts_a_measure_as_a_draft_that_keeps_its_provenance(client, ingest_db, metrics_db, sf_file):
    with metrics_db.session() as s:
        make_department(s, "CUL", "Cultural Affairs")
    headers = _analyst(client, ingest_db)
    assert _import(client, headers, sf_file).status_code == 201
    measure = _measure(client)

    adopted = _adopt(client, headers, measure["id"])
    assert adopted.status_code == 201, adopted.text
    metric = adopted.json()
    assert {k: metric[k] for k in ("key", "department", "state", "is_published", "version")} == {
        "key": "cul.museum_members",
        "department": "CUL",
        "state": "draft",
        "is_published": False,
        "version": 1,
    }
    assert (metric["name"], metric["unit"], metric["direction"], metric["rollup"]) == (
        "Number of museum members",
        "number",
        "higher_is_better",
        "last",
    )
    assert (metric["kind"], metric["frequency"], metric["owner"]) == ("output", "fiscal_year", "Trujillo, Adrian")
    assert metric["data_source"] == f"{SF_SOURCE}, {MEMBERS}"
    assert metric["methodology"].startswith("Collection Method: Records are developed")
    assert metric["methodology"].endswith(f"Description: {measure['description']}")
    assert metric["provenance"] == {
        "source": SF_SOURCE,
        "source_code": MEMBERS,
        "source_row": 2,
        "jurisdiction": "San Francisco",
        "department": "AAM",
        "department_name": "Asian Art Museum",
        "unit": "General",
        "targets": {"FY2013": 16000.0, "FY2014": 14995.0, "FY2015": 15300.0},
        "actuals": {"FY2011": 14755.0, "FY2012": 13725.0, "FY2013": 17066.0},
        "library_measure_id": measure["id"],
        "import_id": measure["import_id"],
    }
    with metrics_db.session(write=False) as s:
        row = s.exec(select(Metric).where(Metric.key == "cul.museum_members")).one()
        assert row.library_measure_id == measure["id"]
        assert s.exec(select(func.count()).select_from(MetricRevision)).one() == 1
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "metric.adopted")).all()
    assert (event.department_code, event.subject, event.detail["source_code"]) == (
        "CUL",
        "cul.museum_members",
        MEMBERS,
    )

    versions = client.get("/api/metrics/metrics/cul.museum_members/versions")
    assert versions.status_code == 200, versions.text
    (version,) = versions.json()["items"]
    assert (version["version"], version["action"]) == (1, "adopted")
    assert MEMBERS in version["reason"]
    assert client.get(f"{API}/measures/{measure['id']}").json()["adopted_as"] == ["cul.museum_members"]

    # A draft is the performance office's and its department's until it is agreed and published.
    client.cookies.clear()
    assert client.get("/api/metrics/metrics/cul.museum_members").status_code == 404
    assert client.get("/api/metrics/metrics/cul.museum_members/versions").status_code == 404
    make_user(ingest_db, "oth.liaison", "liaison", "DPW")
    sign_in(client, "oth.liaison")
    assert client.get("/api/metrics/metrics/cul.museum_members").status_code == 404
    assert client.get(f"{API}/measures/{measure['id']}").json()["adopted_as"] == []


def test_adoption_is_refused_for_a_taken_key_an_unknown_department_or_measure_and_a_non_analyst(
    client, ingest_db, metrics_db, sf_file
):
    with metrics_db.session() as s:
        make_department(s, "CUL", "Cultural Affairs")
    headers = _analyst(client, ingest_db)
    assert _import(client, headers, sf_file).status_code == 201
    measure = _measure(client)
    assert _adopt(client, headers, measure["id"]).status_code == 201

    taken = _adopt(client, headers, measure["id"])
    assert taken.status_code == 409 and taken.headers["content-type"].startswith(PROBLEM)
    assert _adopt(client, headers, measure["id"], department="NOPE", key="nope.members").status_code == 404
    assert _adopt(client, headers, 999999, key="cul.other").status_code == 404
    assert _adopt(client, headers, measure["id"], key="cul.other", extra=1).status_code == 422
    assert _adopt(client, headers, measure["id"], key="cul.other", frequency="daily").status_code == 422

    client.cookies.clear()
    make_user(ingest_db, "cul.head", "head", "CUL")
    head = sign_in(client, "cul.head")
    refused = _adopt(client, head, measure["id"], key="cul.by_the_head")
    assert refused.status_code == 403
    client.cookies.clear()
    assert _adopt(client, {}, measure["id"], key="cul.anonymous").status_code == 401
    with metrics_db.session(write=False) as s:
        assert s.exec(select(Metric.key)).all() == ["cul.museum_members"]


def test_adoption_cuts_a_long_name_and_takes_overrides(client, ingest_db, metrics_db, sf_file):
    long_named = next(m for m in read_sf_measures(sf_file).measures if len(m.name) > 200)
    with metrics_db.session() as s:
        make_department(s, "CUL", "Cultural Affairs")
    headers = _analyst(client, ingest_db)
    assert _import(client, headers, sf_file).status_code == 201
    measure = _measure(client, long_named.source_code)

    cut = _adopt(client, headers, measure["id"], key="cul.long")
    assert cut.status_code == 201, cut.text
    name = cut.json()["name"]
    assert len(name) == 200 and name.endswith("…") and long_named.name.startswith(name[:-1])

    chosen = _adopt(
        client, headers, measure["id"], key="cul.chosen", name="Members", unit="count", rollup="last", kind="outcome"
    )
    assert chosen.status_code == 201, chosen.text
    assert {k: chosen.json()[k] for k in ("name", "unit", "rollup", "kind")} == {
        "name": "Members",
        "unit": "count",
        "rollup": "last",
        "kind": "outcome",
    }
    # The provenance still says what the source measured, whatever the metric now calls it.
    assert chosen.json()["provenance"]["source_code"] == long_named.source_code


def test_a_measure_whose_unit_says_nothing_needs_a_roll_up_and_a_percent_one_gets_ratio(
    client, ingest_db, metrics_db, sf_file
):
    measures = read_sf_measures(sf_file).measures
    percent = next(m for m in measures if m.unit == "percent")
    with metrics_db.session() as s:
        make_department(s, "CUL", "Cultural Affairs")
    headers = _analyst(client, ingest_db)
    assert _import(client, headers, sf_file).status_code == 201
    members = _measure(client)

    unsaid = client.post(
        f"{API}/measures/{members['id']}/adopt",
        json={"department": "CUL", "key": "cul.members", "frequency": "year", "kind": "output"},
        headers=headers,
    )
    assert unsaid.status_code == 422, unsaid.text
    assert [e["field"] for e in unsaid.json()["errors"]] == ["rollup"]
    with metrics_db.session(write=False) as s:
        assert s.exec(select(Metric.key)).all() == []

    by_unit = _adopt(client, headers, members["id"], key="cul.members", unit="count", rollup=None)
    assert by_unit.status_code == 201, by_unit.text
    assert (by_unit.json()["unit"], by_unit.json()["rollup"]) == ("count", "sum")
    share = _adopt(client, headers, _measure(client, percent.source_code)["id"], key="cul.share", rollup=None)
    assert share.status_code == 201, share.text
    assert (share.json()["unit"], share.json()["rollup"]) == ("percent", "ratio")


def test_rows_the_table_cannot_hold_are_rejected_or_cut_and_counted(client, ingest_db, metrics_db, sf_file):
    header, first, second, third = list(csv.reader(io.StringIO(sf_file.decode("utf-8-sig"), newline="")))[:4]
    column = {name.strip(): i for i, name in enumerate(header)}
    actual = next(i for name, i in column.items() if "2012" in name and "Actual" in name)
    second[column["KPI_CODE"]] = "K" * 65  # the code is the measure's identity: it cannot be cut
    third[column["Department"]] = "D" * 250
    third[actual] = "9" * 400  # a float of infinity; JSON has none
    out = io.StringIO()
    csv.writer(out).writerows([header, first, second, third])
    headers = _analyst(client, ingest_db)

    answer = _import(client, headers, out.getvalue().encode())
    assert answer.status_code == 201, answer.text
    summary = answer.json()
    assert (summary["rows"], summary["imported"], summary["updated"]) == (3, 2, 0)
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [(3, "KPI_CODE")]
    assert "65 characters" in summary["rejected"][0]["reason"]
    with metrics_db.session(write=False) as s:
        kept = s.exec(select(LibraryMeasure).where(LibraryMeasure.source_row == 4)).one()
    assert len(kept.department_name) == 200 and kept.department_name.endswith("…")
    assert "FY2012" not in kept.actuals and kept.actuals
    assert any("department name was cut" in note for note in kept.notes)
    assert any("FY2012 actual is too large" in note for note in kept.notes)
