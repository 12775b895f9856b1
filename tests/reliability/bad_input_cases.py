"""The bad-input corpus: each case, its body and the answer DESIGN.md promises for it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from services.common.settings import Settings

PROBLEM = "application/problem+json"
JSON = "application/json"
CSV = "text/csv"
DHIS2 = "/dataValueSets"
CSV_PATH = "/submissions/csv"
DHIS2_CSV_HEADER = (
    "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,storedby,lastupdated,comment"
)

# Comments no system should mangle: right-to-left scripts with a direction mark, emoji sequences joined by
# zero-width joiners and skin-tone modifiers, and combining marks stacked on one letter (kept decomposed).
RTL = "تقرير شهري \u200fמעודכן (2017)"
EMOJI = "crews 👩🏽\u200d🚒🚧 on site 🇺🇸"
COMBINING = "e\u0301 vs \u00e9, Z\u0351\u0363\u036b\u0346, n\u0303"


def rows(*observations: dict, **top: Any) -> bytes:
    return json.dumps({"observations": list(observations), **top}).encode()


def row(metric: str = "dpw.on_time", period: str = "2017-06", value: Any = 0.5, **extra: Any) -> dict:
    return {"metric": metric, "period": period, "value": value, **extra}


def raw_row(value_literal: str, metric: str = "dpw.on_time") -> bytes:
    """A JSON body with a literal Python's json writer would never produce (NaN, a huge number...)."""
    return f'{{"observations": [{{"metric": "{metric}", "period": "2017-06", "value": {value_literal}}}]}}'.encode()


def data_values(*values: dict, **top: Any) -> bytes:
    return json.dumps({"dataValues": list(values), **top}).encode()


def dv(element: str = "dpw.on_time", period: str = "201706", value: Any = "0.5", **extra: Any) -> dict:
    return {"dataElement": element, "period": period, "orgUnit": "DPW", "value": value, **extra}


def csv_text(*lines: str, header: str = "metric,period,value") -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def too_many_json_rows(settings: Settings) -> bytes:
    periods = [f"{year}-{month:02d}" for year in range(1900, 2017) for month in range(1, 13)]
    count = settings.max_rows_per_submission + 1
    return rows(*[row("dpw.count", periods[i % len(periods)], i) for i in range(count)])


def too_many_csv_rows(settings: Settings) -> bytes:
    return csv_text(*[f"dpw.count,2017-06,{i}" for i in range(settings.max_rows_per_submission + 1)])


def too_many_dhis2_rows(settings: Settings) -> bytes:
    return data_values(*[dv("dpw.count", value=str(i)) for i in range(settings.max_rows_per_submission + 1)])


def over_body_limit(settings: Settings) -> bytes:
    return rows(row(comment="x" * (settings.max_body_bytes + 1)))


def chunked_over_body_limit(settings: Settings) -> Iterator[bytes]:
    """Sent without a Content-Length, so only counting what arrives can stop it."""
    body = over_body_limit(settings)
    for i in range(0, len(body), 64 * 1024):
        yield body[i : i + 64 * 1024]


def over_upload_limit(settings: Settings) -> bytes:
    line = "dpw.count,2017-06,1," + "x" * 1000 + "\r\n"
    return ("metric,period,value,comment\r\n" + line * (settings.max_upload_bytes // len(line) + 1)).encode()


def dhis2_over_upload_limit(settings: Settings) -> bytes:
    return data_values(dv(comment="x" * (settings.max_upload_bytes + 1)))


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes | Callable[[Settings], bytes | Iterator[bytes]]
    path: str = "/submissions"
    content_type: str | None = JSON
    params: dict[str, str] = field(default_factory=dict)
    token: str | None = "DPW"  # a department whose token is sent; None sends none; "bogus" a made-up one
    key: str | None = "auto"  # None sends no Idempotency-Key
    # The answer: one status, or the statuses any of which is right (a 4xx either way).
    status: int | tuple[int, ...] = 201
    problem: str | None = None  # the problem type's slug, for whole-request errors, when it is fixed
    rejected: tuple[tuple[int, str], ...] = ()  # (row, field) of each rejected row, in order
    stored: dict[tuple[str, str], float] = field(default_factory=dict)  # values the request adds or changes
    comment: str | None = None  # a comment that must come back exactly as sent
    first: bytes | None = None  # sent first with the same key, and stored, before the case's own body


CASES = [
    # --- JSON, malformed as a whole: 4xx problem, nothing stored -------------------------------------------
    Case("json malformed", b'{"observations": [{"metric": "dpw.on_time",, }]}', status=400, problem="malformed-json"),
    Case("json truncated", rows(row())[:-7], status=400, problem="malformed-json"),
    Case("json empty body", b"", status=(400, 422)),
    Case("json not an object", json.dumps([row()]).encode(), status=422),
    Case("json deeply nested", b"[" * 100_000 + b"]" * 100_000, status=(400, 422)),
    Case("json value a string", rows(row(value="0.5")), status=422, problem="validation-error"),
    Case("json value a bool", rows(row(value=True)), status=422, problem="validation-error"),
    Case("json value an object", rows(row(value={"n": 1})), status=422, problem="validation-error"),
    Case("json value an array", rows(row(value=[0.5])), status=422, problem="validation-error"),
    Case("json observations an object", json.dumps({"observations": row()}).encode(), status=422),
    Case("json observations null", b'{"observations": null}', status=422),
    Case("json metric a number", rows(row(metric=17)), status=422),
    Case("json period a number", rows(row(period=201706)), status=422),
    Case("json unknown field in a row", rows(row(colour="red")), status=422),
    Case("json unknown top-level field", rows(row(), surprise=1), status=422),
    Case("json NaN literal", raw_row("NaN"), status=(400, 422)),
    Case("json Infinity literal", raw_row("Infinity"), status=(400, 422)),
    Case("json -Infinity literal", raw_row("-Infinity"), status=(400, 422)),
    Case("json number overflowing a float", raw_row("1e999", "dpw.count"), status=(400, 422)),
    Case("json integer too large for a float", raw_row("1" + "0" * 400, "dpw.count"), status=(400, 422)),
    Case("json naive generated_at", rows(row(), generated_at="2017-06-30T12:00:00"), status=422),
    Case("json generated_at not a time", rows(row(), generated_at="last tuesday"), status=422),
    # JSON numbers would be read as seconds since 1970.
    Case("json generated_at a number", rows(row(), generated_at=1498824000), status=422),
    Case("json generated_at digits", rows(row(), generated_at="0"), status=422),
    Case("json NUL in comment", rows(row(comment="before\x00after")), status=422),
    Case("json NUL in metric", rows(row(metric="dpw.on_time\x00")), status=422),
    Case(
        "json lone surrogate in comment",
        b'{"observations": [' + json.dumps(row())[:-1].encode() + b', "comment": "half \\ud800 a pair"}]}',
        status=(400, 422),
    ),
    Case(
        "json lone surrogate in metric",
        b'{"observations": [{"metric": "dpw.\\udfff", "period": "2017-06", "value": 0.5}]}',
        status=(400, 422),
    ),
    Case("json comment too long", rows(row(comment="x" * 2001)), status=422),
    Case("json body over the limit", over_body_limit, status=413, problem="payload-too-large"),
    Case("json body over the limit, chunked", chunked_over_body_limit, status=413, problem="payload-too-large"),
    Case("json too many rows", too_many_json_rows, status=413, problem="payload-too-large"),
    Case(
        "json another department's metric",
        rows(row("dpw.count", value=3), row("dwm.on_time")),
        status=403,
        problem="other-department",
    ),
    Case(
        "json atomic with one bad row",
        rows(row("dpw.count", value=3), row(value=1.5)),
        params={"atomic": "true"},
        status=422,
        problem="rows-rejected",
    ),
    Case("json no token", rows(row()), token=None, status=401),
    Case("json unknown token", rows(row()), token="bogus", status=401),
    Case("json department not the token's", rows(row()), params={"department": "DWM"}, status=403),
    Case("json no Idempotency-Key", rows(row()), key=None, status=422, problem="validation-error"),
    Case("json Idempotency-Key with a space", rows(row()), key="two words", status=422),
    Case("json Idempotency-Key too long", rows(row()), key="k" * 201, status=422),
    Case(
        "json same key, another body",
        rows(row(value=0.6)),
        first=rows(row(value=0.5)),
        status=422,
        problem="unprocessable",
    ),
    Case("json unknown import strategy", rows(row()), params={"importStrategy": "merge"}, status=422),
    Case("json as text/plain", rows(row()), content_type="text/plain", status=415),
    Case("json as text/csv", rows(row()), content_type=CSV, status=415),
    # --- JSON, well formed with unusable rows: a receipt naming each, the good rows stored -----------------
    Case(
        "json unknown metric",
        rows(row("dpw.nope"), row("dpw.count", value=7)),
        rejected=((0, "metric"),),
        stored={("dpw.count", "2017-06"): 7},
    ),
    Case("json weekly period for a monthly metric", rows(row(period="2017-W23")), rejected=((0, "period"),)),
    Case("json monthly period for a weekly metric", rows(row("dpw.weekly", "2017-06", 4)), rejected=((0, "period"),)),
    Case("json not a period", rows(row(period="2017-13")), rejected=((0, "period"),)),
    Case("json week 53 of a year without one", rows(row("dpw.weekly", "2017-W53", 4)), rejected=((0, "period"),)),
    Case("json future period", rows(row(period="2017-08")), rejected=((0, "period"),)),
    Case("json period before 1900", rows(row(period="1899-12")), rejected=((0, "period"),)),
    Case("json value above the range", rows(row(value=1.5)), rejected=((0, "value"),)),
    Case("json value below the range", rows(row("dpw.count", value=-1)), rejected=((0, "value"),)),
    Case("json computed metric", rows(row("dpw.computed")), rejected=((0, "metric"),)),
    Case(
        "json numerator without denominator",
        rows({"metric": "dpw.on_time", "period": "2017-06", "numerator": 3}),
        rejected=((0, "denominator"),),
    ),
    Case(
        "json zero denominator",
        rows({"metric": "dpw.on_time", "period": "2017-06", "numerator": 3, "denominator": 0}),
        rejected=((0, "denominator"),),
    ),
    Case("json no value", rows({"metric": "dpw.on_time", "period": "2017-06"}), rejected=((0, "value"),)),
    Case(
        "json dry run with a bad row",
        rows(row(), row(value=9)),
        params={"dryRun": "true"},
        status=200,
        rejected=((1, "value"),),
    ),
    Case(
        "json correction of a stored value",
        rows(row(period="2017-05", value=0.85, reason="recount")),
        stored={("dpw.on_time", "2017-05"): 0.85},
    ),
    Case(
        "json atomic, all good",
        rows(row(), row("dpw.count", value=2)),
        params={"atomic": "true"},
        stored={("dpw.on_time", "2017-06"): 0.5, ("dpw.count", "2017-06"): 2},
    ),
    Case(
        "json aware generated_at",
        rows(row(), generated_at="2017-07-01T10:00:00-04:00"),
        stored={("dpw.on_time", "2017-06"): 0.5},
    ),
    Case("json RTL comment", rows(row(comment=RTL)), stored={("dpw.on_time", "2017-06"): 0.5}, comment=RTL),
    Case("json emoji comment", rows(row(comment=EMOJI)), stored={("dpw.on_time", "2017-06"): 0.5}, comment=EMOJI),
    Case(
        "json combining marks comment",
        rows(row(comment=COMBINING)),
        stored={("dpw.on_time", "2017-06"): 0.5},
        comment=COMBINING,
    ),
    # --- CityStat CSV ----------------------------------------------------------------------------------------
    Case(
        "csv with BOM and CRLF",
        b"\xef\xbb\xbf" + csv_text("dpw.on_time,2017-06,0.5"),
        path=CSV_PATH,
        content_type=CSV,
        stored={("dpw.on_time", "2017-06"): 0.5},
    ),
    Case(
        "csv with LF only",
        b"metric,period,value\ndpw.on_time,2017-06,0.5\n",
        path=CSV_PATH,
        content_type=CSV,
        stored={("dpw.on_time", "2017-06"): 0.5},
    ),
    Case(
        "csv missing the period column",
        csv_text("dpw.on_time,0.5", header="metric,value"),
        path=CSV_PATH,
        content_type=CSV,
        status=400,
        problem="bad-request",
    ),
    Case("csv without a header", b"dpw.on_time,2017-06,0.5\r\n", path=CSV_PATH, content_type=CSV, status=400),
    Case(
        "csv unknown column",
        csv_text("dpw.on_time,2017-06,0.5,red", header="metric,period,value,colour"),
        path=CSV_PATH,
        content_type=CSV,
        status=400,
        problem="bad-request",
    ),
    Case(
        "csv duplicate column",
        csv_text("dpw.on_time,2017-06,0.5,0.6", header="metric,period,value,value"),
        path=CSV_PATH,
        content_type=CSV,
        status=400,
    ),
    Case(
        "csv not UTF-8",
        b"metric,period,value,comment\r\ndpw.on_time,2017-06,0.5,caf\xe9\r\n",
        path=CSV_PATH,
        content_type=CSV,
        status=400,
        problem="bad-request",
    ),
    Case("csv empty", b"", path=CSV_PATH, content_type=CSV, status=400),
    Case("csv header only", csv_text(), path=CSV_PATH, content_type=CSV, status=400),
    Case(
        "csv unterminated quote",
        csv_text('dpw.on_time,2017-06,0.5,"never closed', header="metric,period,value,comment"),
        path=CSV_PATH,
        content_type=CSV,
        status=400,
    ),
    Case(
        "csv cell over the field size limit",
        csv_text("dpw.on_time,2017-06,0.5," + "x" * 200_000, header="metric,period,value,comment"),
        path=CSV_PATH,
        content_type=CSV,
        status=(201, 400),
        rejected=((2, "comment"),),
    ),
    Case(
        "csv NaN and inf cells",
        csv_text(
            "dpw.on_time,2017-06,NaN",
            "dpw.count,2017-06,inf",
            "dpw.count,2017-03,-Infinity",
            "dpw.count,2017-04,1e999",
            # May is still open on 2017-07-10; earlier months have locked by themselves.
            "dpw.count,2017-05,12",
        ),
        path=CSV_PATH,
        content_type=CSV,
        rejected=((2, "value"), (3, "value"), (4, "value"), (5, "value")),
        stored={("dpw.count", "2017-05"): 12},
    ),
    Case(
        "csv row with extra cells",
        csv_text("dpw.on_time,2017-06,0.5,surplus", "dpw.count,2017-06,4"),
        path=CSV_PATH,
        content_type=CSV,
        rejected=((2, "row"),),
        stored={("dpw.count", "2017-06"): 4},
    ),
    Case(
        "csv text in a value cell",
        csv_text("dpw.on_time,2017-06,half"),
        path=CSV_PATH,
        content_type=CSV,
        rejected=((2, "value"),),
    ),
    Case(
        "csv NUL in a cell",
        csv_text("dpw.on_time,2017-06,0.5,a\x00b", header="metric,period,value,comment"),
        path=CSV_PATH,
        content_type=CSV,
        status=(201, 400),
        rejected=((2, "comment"),),
    ),
    Case(
        "csv unknown metric and future period",
        csv_text("dpw.nope,2017-06,1", "dpw.on_time,2017-09,0.5"),
        path=CSV_PATH,
        content_type=CSV,
        rejected=((2, "metric"), (3, "period")),
    ),
    Case(
        "csv weekly period for a monthly metric",
        csv_text("dpw.on_time,2017-W23,0.5"),
        path=CSV_PATH,
        content_type=CSV,
        rejected=((2, "period"),),
    ),
    Case(
        "csv computed metric",
        csv_text("dpw.computed,2017-06,0.5"),
        path=CSV_PATH,
        content_type=CSV,
        rejected=((2, "metric"),),
    ),
    Case(
        "csv another department's metric",
        csv_text("dpw.count,2017-06,4", "dwm.on_time,2017-06,0.5"),
        path=CSV_PATH,
        content_type=CSV,
        status=403,
        problem="other-department",
    ),
    Case(
        "csv atomic with one bad row",
        csv_text("dpw.count,2017-06,4", "dpw.on_time,2017-06,NaN"),
        path=CSV_PATH,
        content_type=CSV,
        params={"atomic": "true"},
        status=422,
        problem="rows-rejected",
    ),
    Case(
        "csv over the upload limit",
        over_upload_limit,
        path=CSV_PATH,
        content_type=CSV,
        status=413,
        problem="payload-too-large",
    ),
    Case(
        "csv too many rows", too_many_csv_rows, path=CSV_PATH, content_type=CSV, status=413, problem="payload-too-large"
    ),
    Case("csv as application/json", csv_text("dpw.on_time,2017-06,0.5"), path=CSV_PATH, status=415),
    Case(
        "csv no Idempotency-Key",
        csv_text("dpw.on_time,2017-06,0.5"),
        path=CSV_PATH,
        content_type=CSV,
        key=None,
        status=422,
    ),
    Case(
        "csv same key, another body",
        csv_text("dpw.on_time,2017-06,0.6"),
        path=CSV_PATH,
        content_type=CSV,
        first=csv_text("dpw.on_time,2017-06,0.5"),
        status=422,
    ),
    Case(
        "csv unicode comments",
        csv_text(
            f'dpw.on_time,2017-06,0.5,"{RTL}"', f"dpw.count,2017-06,1,{EMOJI}", header="metric,period,value,comment"
        ),
        path=CSV_PATH,
        content_type=CSV,
        stored={("dpw.on_time", "2017-06"): 0.5, ("dpw.count", "2017-06"): 1},
        comment=RTL,
    ),
    # --- DHIS2 dataValueSets, JSON ---------------------------------------------------------------------------
    Case("dhis2 json good", data_values(dv()), path=DHIS2, stored={("dpw.on_time", "2017-06"): 0.5}),
    Case(
        "dhis2 json set-level period",
        data_values({"dataElement": "dpw.count", "value": 5}, period="201705"),
        path=DHIS2,
        stored={("dpw.count", "2017-05"): 5},
    ),
    Case(
        "dhis2 json no Idempotency-Key",
        data_values(dv()),
        path=DHIS2,
        key=None,
        stored={("dpw.on_time", "2017-06"): 0.5},
    ),
    Case("dhis2 json malformed", b'{"dataValues": [}', path=DHIS2, status=400),
    Case("dhis2 json truncated", data_values(dv())[:-5], path=DHIS2, status=400),
    Case(
        "dhis2 json deeply nested",
        b'{"dataValues": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        path=DHIS2,
        status=(400, 422),
    ),
    Case("dhis2 json not an object", b"[]", path=DHIS2, status=400),
    Case("dhis2 json dataValues an object", json.dumps({"dataValues": dv()}).encode(), path=DHIS2, status=400),
    Case("dhis2 json value a bool", data_values(dv(value=True)), path=DHIS2, status=422),
    Case("dhis2 json value an object", data_values(dv(value={"v": 1})), path=DHIS2, status=422),
    Case("dhis2 json dataElement a number", data_values(dv(element=7)), path=DHIS2, status=422),
    Case(
        "dhis2 json NaN literal",
        b'{"dataValues": [{"dataElement": "dpw.on_time", "period": "201706", "value": NaN}]}',
        path=DHIS2,
        status=400,
    ),
    Case(
        "dhis2 json value 'NaN' as text",
        data_values(dv(value="NaN"), dv("dpw.count", value="3")),
        path=DHIS2,
        rejected=((0, "value"),),
        stored={("dpw.count", "2017-06"): 3},
    ),
    Case("dhis2 json unknown data element", data_values(dv("dpw.nope")), path=DHIS2, rejected=((0, "metric"),)),
    Case(
        "dhis2 json weekly period for a monthly metric",
        data_values(dv(period="2017W23")),
        path=DHIS2,
        rejected=((0, "period"),),
    ),
    Case("dhis2 json daily period", data_values(dv(period="20170601")), path=DHIS2, rejected=((0, "period"),)),
    Case("dhis2 json future period", data_values(dv(period="201712")), path=DHIS2, rejected=((0, "period"),)),
    Case("dhis2 json value outside the range", data_values(dv(value="2")), path=DHIS2, rejected=((0, "value"),)),
    Case("dhis2 json computed metric", data_values(dv("dpw.computed")), path=DHIS2, rejected=((0, "metric"),)),
    Case(
        "dhis2 json NUL in comment",
        data_values(dv(comment="a\x00b")),
        path=DHIS2,
        status=(201, 400, 422),
        rejected=((0, "comment"),),
    ),
    Case(
        "dhis2 json lone surrogate in comment",
        b'{"dataValues": [{"dataElement": "dpw.on_time", "period": "201706", "value": "0.5", "comment": "\\udc00"}]}',
        path=DHIS2,
        # DHIS2 values are judged one by one: refusing the one row is as right as refusing the request.
        status=(201, 400, 422),
        rejected=((0, "comment"),),
    ),
    Case(
        "dhis2 json another department's metric",
        data_values(dv("dwm.on_time")),
        path=DHIS2,
        status=403,
        problem="other-department",
    ),
    Case(
        "dhis2 json atomic with one bad row",
        data_values(dv("dpw.count", value="2"), dv(value="x")),
        path=DHIS2,
        params={"atomic": "true"},
        status=422,
        problem="rows-rejected",
    ),
    Case("dhis2 json dryRun inside the payload", data_values(dv(), dryRun=True), path=DHIS2, status=400),
    Case("dhis2 json too many rows", too_many_dhis2_rows, path=DHIS2, status=413, problem="payload-too-large"),
    Case(
        "dhis2 json over the upload limit", dhis2_over_upload_limit, path=DHIS2, status=413, problem="payload-too-large"
    ),
    Case(
        "dhis2 json emoji comment",
        data_values(dv(comment=EMOJI)),
        path=DHIS2,
        stored={("dpw.on_time", "2017-06"): 0.5},
        comment=EMOJI,
    ),
    Case("dhis2 as text/plain", data_values(dv()), path=DHIS2, content_type="text/plain", status=415),
    Case("dhis2 without a content type", data_values(dv()), path=DHIS2, content_type=None, status=415),
    # --- DHIS2 dataValueSets, CSV ----------------------------------------------------------------------------
    Case(
        "dhis2 csv with header",
        csv_text("dpw.on_time,201706,DPW,,,0.5", header=DHIS2_CSV_HEADER),
        path=DHIS2,
        content_type="application/csv",
        stored={("dpw.on_time", "2017-06"): 0.5},
    ),
    Case(
        "dhis2 csv without header",
        b"dpw.count,201705,DPW,,,9\n",
        path=DHIS2,
        content_type="application/csv",
        stored={("dpw.count", "2017-05"): 9},
    ),
    Case(
        "dhis2 csv inf and unknown element",
        csv_text("dpw.on_time,201706,DPW,,,inf", "dpw.nope,201706,DPW,,,1", header=DHIS2_CSV_HEADER),
        path=DHIS2,
        content_type="application/csv",
        rejected=((2, "value"), (3, "metric")),
    ),
    Case(
        "dhis2 csv header out of order",
        csv_text(
            "dpw.on_time,DPW,201706,,,0.5",
            header="dataelement,orgunit,period,categoryoptioncombo,attributeoptioncombo,value",
        ),
        path=DHIS2,
        content_type="application/csv",
        status=400,
    ),
    Case(
        "dhis2 csv not UTF-8",
        b"dpw.on_time,201706,DPW,,,0.5,,,caf\xe9\n",
        path=DHIS2,
        content_type="application/csv",
        status=400,
    ),
    Case(
        "dhis2 csv another department's metric",
        b"dwm.on_time,201706,DWM,,,0.5\n",
        path=DHIS2,
        content_type="application/csv",
        status=403,
        problem="other-department",
    ),
    Case(
        "dhis2 csv combining marks comment",
        csv_text(f'dpw.on_time,201706,DPW,,,0.5,,,"{COMBINING}"', header=DHIS2_CSV_HEADER),
        path=DHIS2,
        content_type="application/csv",
        stored={("dpw.on_time", "2017-06"): 0.5},
        comment=COMBINING,
    ),
]
