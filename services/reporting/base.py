"""The reporting service's declarative base. Briefings and other frozen outputs will live here;
the scorecard is read live from metrics and stores nothing yet."""

from services.common.db import service_base

ReportingTable = service_base("reporting")
