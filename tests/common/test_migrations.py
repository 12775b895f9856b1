"""Each service's Alembic history builds exactly the tables its models describe, on this pass's database."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.db import create_db_engine
from services.common.migrations import alembic_config
from tests.conftest import METADATA


@pytest.mark.parametrize("service", sorted(METADATA))
def test_migrations_match_the_models(database_set, service):
    engine = create_db_engine(database_set.urls[service], pooled=False)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, METADATA[service]) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", sorted(METADATA))
def test_migrations_go_down_and_up_again(tmp_path, service):
    from tests.conftest import DatabaseSet

    dbs = DatabaseSet(f"updown{service}", tmp_path)
    try:
        config = alembic_config(service, dbs.urls[service])
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        engine = create_db_engine(dbs.urls[service], pooled=False)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection)
                assert compare_metadata(context, METADATA[service]) == []
                assert context.get_current_revision() is not None
        finally:
            engine.dispose()
    finally:
        dbs.drop()
