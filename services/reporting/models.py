"""Every table of the reporting service, imported so its metadata is complete for Alembic."""

from services.reporting.base import ReportingTable

metadata = ReportingTable.metadata

__all__ = ["metadata"]
