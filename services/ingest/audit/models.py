from services.common.audit import AuditFields
from services.ingest.base import IngestTable


class AuditEvent(IngestTable, AuditFields, table=True):
    __tablename__ = "audit_event"
