"""One demo city for both contract runs: loading it is most of their cost, and neither needs it untouched (each
serves it from its own server, so rate limits and caches start fresh for each)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.common.db import Database
from services.common.settings import Settings
from services.ingest.tokens.service import create_token
from tests.conftest import DatabaseSet, load_demo
from tests.factories import make_user

ADMIN = "schemathesis.admin"


@dataclass
class ContractCity:
    databases: DatabaseSet
    token: str  # a DPW department system's API token
    admin: str  # the username of an administrator (tests.factories.DEFAULT_PASSWORD)

    def settings(self, data_dir) -> Settings:
        """Settings to serve the city with. The runs send thousands of requests from one address and one caller,
        hundreds with wrong credentials on purpose; the rate and failure limits would answer them 429 and the run
        would check the limiter instead of the operations (the limiters have tests of their own)."""
        return self.databases.settings(
            data_dir,
            rate_limit_per_minute=1_000_000.0,
            rate_limit_burst=1_000_000,
            auth_failures_per_minute=1_000_000.0,
            auth_failure_burst=1_000_000,
        )


@pytest.fixture(scope="package")
def contract_city(tmp_path_factory):
    """Its own databases with the demo city, since fuzzed writes land in them."""
    dbs = DatabaseSet("contract", tmp_path_factory.mktemp("contract"))
    load_demo(dbs)
    ingest = Database(dbs.urls["ingest"])
    with ingest.session() as session:
        _, token = create_token(session, "DPW", "schemathesis")
    make_user(ingest, ADMIN, "admin")
    ingest.dispose()
    yield ContractCity(dbs, token, ADMIN)
    dbs.drop()
