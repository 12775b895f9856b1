from services.common.audit import AuditFields
from services.metrics.base import MetricsTable


class AuditEvent(AuditFields, MetricsTable, table=True):
    """Every definition, target and value change in metrics, with its principal."""

    __tablename__ = "audit_event"
