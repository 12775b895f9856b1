"""Figures a reliability test measured, for `make reliability` to print in one table.

Each test calls `report(...)` once per check with what it counted. Under `make reliability`
(CITYSTAT_RELIABILITY_FIGURES names a JSON-lines file) every figure is appended there; in `make test`
the figures are only printed (pytest shows them with -s or on failure), so the reduced runs cost nothing extra.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tests.conftest import DATABASE


def report(check: str, passed: bool, **figures: Any) -> None:
    """One line per check: its name, the engine it ran on, whether it passed and what it measured."""
    line = {"check": check, "engine": DATABASE, "passed": bool(passed), **figures}
    print(f"[reliability] {json.dumps(line, default=str)}")
    target = os.environ.get("CITYSTAT_RELIABILITY_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, default=str) + "\n")
