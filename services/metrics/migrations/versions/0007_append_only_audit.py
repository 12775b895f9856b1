"""the audit trail is append-only: the database refuses to change or remove its rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:55:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Triggers, so that no code path (a bug, an injected statement, a hand-typed fix) can rewrite history. The table's
# owner can still drop them: this guards against the application, not against whoever administers the database.
# SQLite: a later migration that rebuilds audit_event in batch mode drops these triggers and must create them again.
POSTGRESQL_UP = [
    """
    CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % is refused', TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER audit_event_no_truncate ON audit_event",
    "DROP TRIGGER audit_event_no_change ON audit_event",
    "DROP FUNCTION audit_event_append_only()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE is refused'); END
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE is refused'); END
    """,
]
SQLITE_DOWN = ["DROP TRIGGER audit_event_no_delete", "DROP TRIGGER audit_event_no_update"]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(SQLITE_UP if op.get_bind().dialect.name == 'sqlite' else POSTGRESQL_UP)


def downgrade() -> None:
    _run(SQLITE_DOWN if op.get_bind().dialect.name == 'sqlite' else POSTGRESQL_DOWN)
