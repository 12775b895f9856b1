"""Random well-typed (and some ill-typed) trees against the real datasets: every one gets a 200 or a 4xx problem,
never a 500, on SQLite and on PostgreSQL. The contract test cannot reach this: its dataset ids are random."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from tests.factories import make_user, sign_in
from tests.metrics.opendata.opendata_city import (
    INTERNAL,
    LISTING,
    OBSERVATION_TYPES,
    OBSERVATIONS_ID,
    RECORD_TYPES,
    REQUESTS_ID,
    add_requests,
    build_city,
)

TEXTS = {
    "text": ["DPW", "Pothole", "", "%", "_a%", "O'Brien", "Élagage", "\\"],
    "number": ["0", "1.5", "-3", "1E+300", "0.1"],
    "boolean": ["true", "false"],
    "floating_timestamp": ["2017-06-01", "2017-06-01T10:15:00", "2017-06-01T10:15:00.123"],
}
# A longer or different walk when hunting: CITYSTAT_OPENDATA_FUZZ_TREES=2000 CITYSTAT_OPENDATA_FUZZ_SEED=x.
FUZZ_TREES = int(os.environ.get("CITYSTAT_OPENDATA_FUZZ_TREES", "250"))
FUZZ_SEED = os.environ.get("CITYSTAT_OPENDATA_FUZZ_SEED", "")
NUMBERS = ["0", "1", "-2.5", "1E+300", "1E-300", "12345678901234567890"]


class TreeMaker:
    def __init__(self, rng: random.Random, types: dict[str, str]) -> None:
        self.rng = rng
        self.types = types

    def column(self, kind: str) -> dict[str, Any] | None:
        names = [name for name, t in self.types.items() if t == kind]
        return {"kind": "column", "name": self.rng.choice(names)} if names else None

    def literal(self, kind: str) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.1:
            return {"kind": "null"}
        if kind == "number" and roll < 0.6:
            return {"kind": "number", "value": self.rng.choice(NUMBERS)}
        if kind == "boolean" and roll < 0.6:
            return {"kind": "boolean", "value": self.rng.random() < 0.5}
        return {"kind": "text", "value": self.rng.choice(TEXTS[kind])}

    def expr(self, kind: str, depth: int, aggregate: bool = False) -> dict[str, Any]:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.3:
            column = self.column(kind)
            return column if column and rng.random() < 0.7 else self.literal(kind)
        d = depth - 1
        if aggregate and rng.random() < 0.4:
            if kind == "number":
                name = rng.choice(["count", "sum", "avg", "min", "max"])
                if name == "count":
                    args = [] if rng.random() < 0.5 else [self.expr(rng.choice(list(TEXTS)), d)]
                else:
                    args = [self.expr("number", d)]
                return {"kind": "call", "name": name, "args": args}
            return {"kind": "call", "name": rng.choice(["min", "max"]), "args": [self.expr(kind, d)]}
        if kind == "number":
            choice = rng.choice(["arith", "negate"])
            if choice == "negate":
                return {"kind": "negate", "arg": self.expr("number", d, aggregate)}
            op = rng.choice(["+", "-", "*", "/"])
            return {
                "kind": "binary",
                "op": op,
                "left": self.expr("number", d, aggregate),
                "right": self.expr("number", d),
            }
        if kind == "text":
            return {"kind": "call", "name": rng.choice(["upper", "lower"]), "args": [self.expr("text", d, aggregate)]}
        if kind == "floating_timestamp":
            name = rng.choice(["date_trunc_y", "date_trunc_ym", "date_trunc_ymd"])
            return {"kind": "call", "name": name, "args": [self.expr("floating_timestamp", d, aggregate)]}
        other = rng.choice(list(TEXTS))
        choice = rng.choice(["cmp", "like", "starts", "between", "in", "null", "not", "logical"])
        if choice == "cmp":
            op = rng.choice(["=", "!=", "<", "<=", ">", ">="])
            return {"kind": "binary", "op": op, "left": self.expr(other, d, aggregate), "right": self.expr(other, d)}
        if choice == "like":
            op = rng.choice(["like", "not like"])
            return {"kind": "binary", "op": op, "left": self.expr("text", d), "right": self.expr("text", d)}
        if choice == "starts":
            return {"kind": "call", "name": "starts_with", "args": [self.expr("text", d), self.expr("text", d)]}
        if choice == "between":
            arg, low, high = (self.expr(other, d) for _ in range(3))
            return {"kind": "between", "arg": arg, "low": low, "high": high, "negated": rng.random() < 0.5}
        if choice == "in":
            items = [self.expr(other, d) for _ in range(rng.randint(1, 3))]
            return {"kind": "in", "arg": self.expr(other, d), "items": items, "negated": rng.random() < 0.5}
        if choice == "null":
            return {"kind": "is_null", "arg": self.expr(other, d), "negated": rng.random() < 0.5}
        if choice == "not":
            return {"kind": "not", "arg": self.expr("boolean", d, aggregate)}
        args = [self.expr("boolean", d, aggregate) for _ in range(rng.randint(2, 3))]
        return {"kind": "logical", "op": rng.choice(["and", "or"]), "args": args}

    def query(self) -> dict[str, Any]:
        rng = self.rng
        kinds = list(TEXTS)
        body: dict[str, Any] = {"limit": rng.randint(1, 20), "offset": rng.randint(0, 5)}
        grouped = rng.random() < 0.4
        if grouped:
            group = [self.expr(rng.choice(kinds), 1) for _ in range(rng.randint(1, 2))]
            body["group"] = group
            select = [{"expr": g, "alias": None} for g in group]
            select += [{"expr": self.expr("number", 2, aggregate=True), "alias": f"a{i}"} for i in range(2)]
            body["select"] = [{**item, "alias": item["alias"] or f"g{i}"} for i, item in enumerate(select)]
            if rng.random() < 0.5:
                body["having"] = self.expr("boolean", 2, aggregate=True)
            body["order"] = [{"expr": rng.choice(select)["expr"], "direction": rng.choice(["asc", "desc"])}]
        else:
            if rng.random() < 0.7:
                count = rng.randint(1, 4)
                body["select"] = [{"expr": self.expr(rng.choice(kinds), 2), "alias": f"s{i}"} for i in range(count)]
            body["order"] = [
                {"expr": self.expr(rng.choice(kinds), 1), "direction": rng.choice(["asc", "desc"])}
                for _ in range(rng.randint(0, 2))
            ]
        if rng.random() < 0.7:
            body["where"] = self.expr("boolean", 3)
        if rng.random() < 0.2:
            body["search"] = rng.choice(["pot", "%", "DPW", "é"])
        return body


@pytest.mark.parametrize(("dataset", "types"), [(OBSERVATIONS_ID, OBSERVATION_TYPES), (REQUESTS_ID, RECORD_TYPES)])
def test_random_trees_never_make_a_server_error(client, metrics_db, ingest_db, dataset, types):
    with metrics_db.session() as session:
        build_city(session)
        add_requests(session)
    make_user(ingest_db, "ana", "analyst")
    csrf = sign_in(client, "ana")
    assert client.patch("/api/metrics/datasets/service_requests", json={"is_published": True}, headers=csrf).is_success
    client.cookies.clear()
    maker = TreeMaker(random.Random(f"opendata-fuzz-{dataset}{FUZZ_SEED}"), types)
    answered = 0
    for _ in range(FUZZ_TREES):
        body = maker.query()
        response = client.post(f"{LISTING}/{dataset}/query", json=body, headers=INTERNAL)
        assert response.status_code in (200, 400, 422), (body, response.status_code, response.text)
        if response.status_code == 200:
            answered += 1
        else:
            assert response.headers["content-type"].startswith("application/problem+json")
    # Most trees are meant to be runnable: the test is worthless if the executor refuses them all.
    assert answered > 100
