from pydantic import BaseModel


class DepartmentPublic(BaseModel):
    code: str
    name: str
    metric_count: int
