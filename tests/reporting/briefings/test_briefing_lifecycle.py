"""A briefing goes from draft to published; a published one is frozen: it keeps the numbers it showed and their
revisions, and renders byte for byte the same after the data is corrected."""

from __future__ import annotations

import hashlib
import re
import subprocess

from services.reporting.briefings.models import Briefing
from services.reporting.briefings.service import rendered
from tests.factories import sign_in
from tests.reporting.briefings.briefing_city import deliver, make_briefing_city, wait_built

BRIEFINGS = "/api/reporting/briefings"
FIGURE_LINK = re.compile(
    r'href="/metric\.html\?key=([a-z0-9_.-]+)&(?:amp;)?period=([0-9A-Z-]+)(?:&(?:amp;)?revision=(\d+))?"'
)


def _revisions(client, key: str, period: str) -> list[int]:
    answer = client.get(f"/api/metrics/metrics/{key}/observations/{period}/revisions")
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_cabinet_briefing_is_suggested_edited_published_and_then_frozen(client, metrics_db, ingest_db, reporting_db):
    make_briefing_city(client, metrics_db, ingest_db)
    csrf = sign_in(client, "ana")

    suggested = client.get(f"{BRIEFINGS}/suggestions", params={"period": "2017-06"})
    assert suggested.status_code == 200, suggested.text
    reasons = {item["metric"]: item["reason"] for item in suggested.json()["items"]}
    # Off target in June: DWM's work orders all year; DPW's pothole repairs, which also jumped from 3 to 5 days.
    assert reasons.get("dwm.on_time") == "off_target"
    assert reasons.get("dpw.pothole_days") in ("off_target", "mover")
    # DWM's main breaks jumped from about 40 to 90; the flat 311 calls are not worth the Cabinet's time.
    assert reasons.get("dwm.main_breaks") in ("mover", "signal") and "dpw.calls" not in reasons

    created = client.post(BRIEFINGS, json={"kind": "cabinet", "period": "2017-06"}, headers=csrf)
    assert created.status_code == 202, created.text
    briefing_id = created.json()["id"]
    assert created.headers["location"].endswith(f"/briefings/{briefing_id}")
    draft = wait_built(client, briefing_id)
    assert draft["build"]["status"] == "ready", draft
    assert draft["build"]["done"] == draft["build"]["total"] > 0
    assert draft["state"] == "draft" and draft["title"] == "Cabinet briefing, June 2017"
    chosen = [row["metric"] for row in draft["selection"]]
    assert set(reasons) >= set(chosen) and 3 <= len(chosen) <= 6

    # The analyst swaps one in, reorders, and writes the commissioner's account.
    selection = [
        {"metric": "dpw.on_time", "explanation": "Crews now close <script>alert(1)</script> tickets the same day."},
        {"metric": "dpw.pothole_days", "explanation": "Two crews were out for a week."},
        {"metric": "dwm.on_time", "reason": "off_target"},
    ]
    edited = client.patch(f"{BRIEFINGS}/{briefing_id}", json={"selection": selection}, headers=csrf)
    assert edited.status_code == 200, edited.text
    edited = wait_built(client, briefing_id)
    assert [p["metric"] for p in edited["snapshot"]["panels"]] == ["dpw.on_time", "dpw.pothole_days", "dwm.on_time"]
    on_time = edited["snapshot"]["panels"][0]
    assert (on_time["figure"]["value"], on_time["status"]) == (0.95, "on_target")
    assert on_time["explanation"].startswith("Crews now close <script>")

    # An explanation alone is saved without reading the numbers again.
    selection[2]["explanation"] = "A new scheduler goes live in August."
    again = client.patch(f"{BRIEFINGS}/{briefing_id}", json={"selection": selection}, headers=csrf).json()
    assert again["build"]["status"] == "ready"
    assert again["snapshot"]["panels"][2]["explanation"] == "A new scheduler goes live in August."

    draft_html = client.get(f"{BRIEFINGS}/{briefing_id}/html")
    assert draft_html.status_code == 200 and "DRAFT" in draft_html.text

    published = client.post(f"{BRIEFINGS}/{briefing_id}/publish", headers=csrf)
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["state"] == "published" and body["published_by"].startswith("Ana (user:")
    page = client.get(f"{BRIEFINGS}/{briefing_id}/html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert hashlib.sha256(html.encode()).hexdigest() == body["html_sha256"]
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "DRAFT" not in html

    # Every number links to its metric, period and revision, and the revision is the one metrics holds.
    links = FIGURE_LINK.findall(html)
    assert ("dpw.on_time", "2017-06", str(_revisions(client, "dpw.on_time", "2017-06")[0])) in links
    june_revision = _revisions(client, "dpw.on_time", "2017-06")[0]

    # The data is corrected after publication: the briefing does not move.
    deliver(client, "DPW", [{"metric": "dpw.on_time", "period": "2017-06", "value": 0.61}])
    assert _revisions(client, "dpw.on_time", "2017-06")[0] != june_revision
    later = client.get(f"{BRIEFINGS}/{briefing_id}/html").content
    assert later == page.content
    frozen = client.get(f"{BRIEFINGS}/{briefing_id}").json()
    assert frozen["snapshot"]["panels"][0]["figure"] == {
        "metric": "dpw.on_time", "period": "2017-06", "value": 0.95, "org_unit": "", "revision": june_revision,
        "unit": "percent",
    }  # fmt: skip
    # A re-render of the stored snapshot gives the same bytes as were published.
    with reporting_db.session(write=False) as session:
        row = session.get(Briefing, briefing_id)
        assert rendered(row).encode() == page.content

    pdf = client.get(f"{BRIEFINGS}/{briefing_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert client.get(f"{BRIEFINGS}/{briefing_id}/pdf").content == pdf.content
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert "Service requests completed on time" in text and "95%" in text and "61%" not in text

    # Frozen means frozen.
    assert client.patch(f"{BRIEFINGS}/{briefing_id}", json={"title": "x"}, headers=csrf).status_code == 409
    assert client.post(f"{BRIEFINGS}/{briefing_id}/publish", headers=csrf).status_code == 409
    assert client.post(f"{BRIEFINGS}/{briefing_id}/rebuild", headers=csrf).status_code == 409
    assert client.delete(f"{BRIEFINGS}/{briefing_id}", headers=csrf).status_code == 409


def test_a_draft_reads_corrected_numbers_when_rebuilt_and_can_be_deleted(client, metrics_db, ingest_db):
    make_briefing_city(client, metrics_db, ingest_db)
    csrf = sign_in(client, "ana")
    created = client.post(
        BRIEFINGS, json={"kind": "roundtable", "period": "2017-06", "departments": ["DPW"]}, headers=csrf
    )
    assert created.status_code == 202, created.text
    briefing_id = created.json()["id"]
    draft = wait_built(client, briefing_id)
    values = {p["metric"]: p["figure"]["value"] for p in draft["snapshot"]["panels"]}
    assert values == {"dpw.on_time": 0.95, "dpw.pothole_days": 5.0, "dpw.calls": 1000}

    deliver(client, "DPW", [{"metric": "dpw.pothole_days", "period": "2017-06", "value": 2.5}])
    assert client.post(f"{BRIEFINGS}/{briefing_id}/rebuild", headers=csrf).status_code == 202
    rebuilt = wait_built(client, briefing_id)
    panel = next(p for p in rebuilt["snapshot"]["panels"] if p["metric"] == "dpw.pothole_days")
    assert (panel["figure"]["value"], panel["status"]) == (2.5, "on_target")

    assert client.delete(f"{BRIEFINGS}/{briefing_id}", headers=csrf).status_code == 204
    assert client.get(f"{BRIEFINGS}/{briefing_id}").status_code == 404


def test_what_cannot_be_built_is_refused_with_the_field_at_fault(client, metrics_db, ingest_db):
    make_briefing_city(client, metrics_db, ingest_db)
    csrf = sign_in(client, "ana")

    def refused(body: dict) -> str:
        answer = client.post(BRIEFINGS, json=body, headers=csrf)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        return answer.json()["errors"][0]["field"]

    assert refused({"kind": "roundtable", "period": "2017-06", "departments": []}) == "departments"
    assert refused({"kind": "roundtable", "period": "2017-06", "departments": ["DPW", "DWM", "DPW"]}) == "departments"
    assert refused({"kind": "roundtable", "period": "2017-06", "departments": ["NOPE"]}) == "departments.0"
    assert refused({"kind": "annual", "period": "2017-06"}) == "period"
    assert refused({"kind": "frontline", "period": "2017-06", "departments": ["DPW"]}) == "period"
    assert refused({"kind": "memo", "period": "2017-06", "departments": ["DPW"]}) == "departments"
    assert refused({"kind": "memo", "period": "2017-06", "selection": [{"metric": "dpw.calls"}]}) == "selection"
    assert refused({"kind": "cabinet", "period": "2017-06", "meeting_id": 999}) == "meeting_id"
    twice = [{"metric": "dpw.calls"}, {"metric": "dpw.calls"}, {"metric": "dpw.on_time"}]
    assert refused({"kind": "cabinet", "period": "2017-06", "selection": twice}) == "selection"

    # Two metrics are not a Cabinet briefing: it is kept as a draft, and publishing says why not.
    two = client.post(
        BRIEFINGS,
        json={
            "kind": "cabinet",
            "period": "2017-06",
            "selection": [{"metric": "dpw.calls"}, {"metric": "dpw.on_time"}],
        },
        headers=csrf,
    ).json()
    wait_built(client, two["id"])
    answer = client.post(f"{BRIEFINGS}/{two['id']}/publish", headers=csrf)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "selection"
    assert client.get(f"{BRIEFINGS}/{two['id']}").json()["state"] == "draft"

    # A metric that does not exist fails the build, which says so.
    ghost = client.post(
        BRIEFINGS,
        json={"kind": "cabinet", "period": "2017-06", "selection": [{"metric": "dpw.ghost"}]},
        headers=csrf,
    ).json()
    failed = wait_built(client, ghost["id"])
    assert failed["build"]["status"] == "failed" and "dpw.ghost" in failed["build"]["error"]
    assert client.get(f"{BRIEFINGS}/{ghost['id']}/html").status_code == 409


def test_the_mayors_direction_in_a_cabinet_briefing_is_listed_by_the_next_roundtable_with_that_department(
    client, metrics_db, ingest_db
):
    make_briefing_city(client, metrics_db, ingest_db)
    csrf = sign_in(client, "ana")
    selection = [{"metric": "dpw.pothole_days"}, {"metric": "dpw.on_time"}, {"metric": "dwm.on_time"}]
    cabinet = client.post(
        BRIEFINGS, json={"kind": "cabinet", "period": "2017-06", "selection": selection}, headers=csrf
    ).json()["id"]
    wait_built(client, cabinet)
    assert client.post(f"{BRIEFINGS}/{cabinet}/publish", headers=csrf).status_code == 200
    direction = client.post(
        "/api/reporting/commitments",
        json={
            "kind": "direction", "department": "DPW", "metric": "dpw.pothole_days", "briefing_id": cabinet,
            "description": "Back to three days by the end of September", "level": 3.0, "deadline": "2017-09-30",
        },
        headers=csrf,
    )  # fmt: skip
    assert direction.status_code == 201, direction.text

    roundtable = client.post(
        BRIEFINGS, json={"kind": "roundtable", "period": "2017-06", "departments": ["DPW"]}, headers=csrf
    ).json()["id"]
    lines = wait_built(client, roundtable)["snapshot"]["commitments"]
    assert [(c["description"], c["metric_name"], c["unit"]) for c in lines] == [
        ("Back to three days by the end of September", "Days to repair a pothole", "days")
    ]
    # June stood at 5 days: not met yet, with the deadline ahead.
    assert lines[0]["status"] in ("on_track", "at_risk") and lines[0]["latest"]["value"] == 5.0
    assert "Back to three days by the end of September" in client.get(f"{BRIEFINGS}/{roundtable}/html").text

    # Watershed's roundtable is not told about Public Works' commitments.
    watershed = client.post(
        BRIEFINGS, json={"kind": "roundtable", "period": "2017-06", "departments": ["DWM"]}, headers=csrf
    ).json()["id"]
    assert wait_built(client, watershed)["snapshot"]["commitments"] == []
