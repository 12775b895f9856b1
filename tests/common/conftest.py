"""Modules here that never touch a database run in the SQLite pass only: the PostgreSQL pass would repeat them
unchanged (collected once rather than skipped)."""

from tests.conftest import DATABASE

ENGINE_INDEPENDENT = ["test_startup_secrets.py"]
collect_ignore = [] if DATABASE == "sqlite" else ENGINE_INDEPENDENT
