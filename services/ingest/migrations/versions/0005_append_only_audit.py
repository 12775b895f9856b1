"""the audit trail is append-only: the database refuses to change or remove its rows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:55:00
"""
from collections.abc import Sequence

from services.common.migrations import drop_append_only, make_append_only

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    make_append_only("audit_event")


def downgrade() -> None:
    drop_append_only("audit_event")
