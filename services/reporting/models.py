"""Every table of the reporting service, imported so its metadata is complete for Alembic."""

from services.reporting.base import ReportingTable
from services.reporting.briefings.models import Briefing
from services.reporting.commitments.models import Commitment
from services.reporting.meetings.models import Meeting

metadata = ReportingTable.metadata

__all__ = ["Briefing", "Commitment", "Meeting", "metadata"]
