"""Input types that refuse what JSON allows but a city's numbers must not be."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "AwareDatetime",
    "FiniteFloat",
    "INPUT_CONFIG",
    "Code",
    "CODE_PATTERN",
    "METRIC_KEY_PATTERN",
    "NO_NUL_PATTERN",
]


def _number_only(value: Any) -> Any:
    # pydantic's lax mode turns true into 1 and "0.5" into 0.5; a department's number must be a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and Infinity are refused)")
    return value


FiniteFloat = Annotated[float, BeforeValidator(_number_only), Field(allow_inf_nan=False)]

INPUT_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)

CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,15}$"
METRIC_KEY_PATTERN = r"^[a-z][a-z0-9_.-]{1,79}$"
# PostgreSQL text cannot hold NUL; saying so in the schema makes it a 422, not a database error.
NO_NUL_PATTERN = r"^[^\x00]*$"

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
