from typing import Annotated

from pydantic import BaseModel, StringConstraints

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.orgunits.models import OrgUnitKind

ORG_UNIT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class OrgUnitCreate(BaseModel):
    model_config = INPUT_CONFIG
    code: Annotated[str, StringConstraints(pattern=ORG_UNIT_PATTERN)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
    kind: OrgUnitKind
    parent: Annotated[str, StringConstraints(pattern=ORG_UNIT_PATTERN)] | None = None


class OrgUnitPublic(BaseModel):
    code: str
    name: str
    kind: OrgUnitKind
    department: str
    parent: str | None
