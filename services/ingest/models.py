"""Every table of the ingest service, imported so its metadata is complete for Alembic."""

from services.ingest.accounts.models import StaffUser
from services.ingest.audit.models import AuditEvent
from services.ingest.base import IngestTable
from services.ingest.notifications.models import Notification
from services.ingest.records.models import RecordUpload
from services.ingest.submissions.models import Submission
from services.ingest.tokens.models import ApiToken

metadata = IngestTable.metadata

__all__ = ["ApiToken", "AuditEvent", "Notification", "RecordUpload", "StaffUser", "Submission", "metadata"]
