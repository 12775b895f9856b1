from services.common.migrations import run_env
from services.ingest.models import metadata

run_env(metadata)
