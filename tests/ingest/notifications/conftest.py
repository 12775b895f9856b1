"""The notification tests' town (tests/ingest/notifications/notify_town.py), on the clean databases of the app."""

import pytest

from tests.ingest.notifications.notify_town import Town, build_town


@pytest.fixture
def town(client, metrics_db, ingest_db) -> Town:
    return build_town(metrics_db, ingest_db)
