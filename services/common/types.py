"""Input types that refuse what JSON allows but a city's numbers must not be."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AwareDatetime as _AwareDatetime
from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

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


_ISO_DATE_START = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")


def _text_only(value: Any) -> Any:
    # pydantic reads a number, or a string of digits, as seconds since 1970; a timestamp here is ISO 8601 text.
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE_START.match(value)):
        raise ValueError("must be an ISO 8601 timestamp with an offset, e.g. 2017-07-01T10:00:00-04:00")
    return value


AwareDatetime = Annotated[_AwareDatetime, BeforeValidator(_text_only)]

INPUT_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)

CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,15}$"
METRIC_KEY_PATTERN = r"^[a-z][a-z0-9_.-]{1,79}$"
# PostgreSQL text cannot hold NUL; saying so in the schema makes it a 422, not a database error.
NO_NUL_PATTERN = r"^[^\x00]*$"
# Some character other than white space, and no NUL: words to search for.
WORDS_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
