"""Every table of the metrics service, imported so its metadata is complete for Alembic."""

from services.metrics.base import MetricsTable
from services.metrics.definitions.models import Metric, Target
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation, ObservationDelivery, ObservationRevision

metadata = MetricsTable.metadata

__all__ = ["Department", "Metric", "Target", "Observation", "ObservationDelivery", "ObservationRevision", "metadata"]
