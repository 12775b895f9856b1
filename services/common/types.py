"""Input types that refuse what JSON allows but a city's numbers must not be."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = ["AwareDatetime", "FiniteFloat", "INPUT_CONFIG", "Code", "MetricKey"]


def _number_only(value: Any) -> Any:
    # pydantic's lax mode turns true into 1 and "0.5" into 0.5; a department's number must be a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and Infinity are refused)")
    return value


FiniteFloat = Annotated[float, BeforeValidator(_number_only), Field(allow_inf_nan=False)]

INPUT_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
MetricKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{1,79}$")]
