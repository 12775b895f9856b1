"""Every table of the metrics service, imported so its metadata is complete for Alembic."""

from services.metrics.annotations.models import Annotation
from services.metrics.approvals.models import PeriodApproval
from services.metrics.audit.models import AuditEvent
from services.metrics.base import MetricsTable
from services.metrics.budget.models import BudgetDepartment, BudgetImport, BudgetLine, MetricBudgetLink
from services.metrics.definitions.models import Metric, MetricComment, MetricLink, MetricRevision, Target
from services.metrics.departments.models import Department
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.observations.models import Observation, ObservationDelivery, ObservationRevision
from services.metrics.orgunits.models import OrgUnit
from services.metrics.priorities.models import MetricPriority, Priority
from services.metrics.records.models import (
    Dataset,
    Holiday,
    MappingProfile,
    RawRecord,
    RecordImport,
    RecordRejection,
    SlaRule,
)

metadata = MetricsTable.metadata

__all__ = [
    "Annotation",
    "AuditEvent",
    "BudgetDepartment",
    "BudgetImport",
    "BudgetLine",
    "Dataset",
    "Holiday",
    "MappingProfile",
    "RawRecord",
    "RecordImport",
    "RecordRejection",
    "SlaRule",
    "Department",
    "LibraryImport",
    "LibraryMeasure",
    "Metric",
    "MetricBudgetLink",
    "MetricComment",
    "MetricLink",
    "MetricPriority",
    "MetricRevision",
    "Observation",
    "ObservationDelivery",
    "ObservationRevision",
    "OrgUnit",
    "PeriodApproval",
    "Priority",
    "Target",
    "metadata",
]
