"""What tests/infra collects on which pass.

test_backup_restore.py exercises PostgreSQL's own pg_dump / pg_restore, with the PostgreSQL pass's server as the
source: it runs in the PostgreSQL pass only. In the SQLite pass it is not collected at all (rather than skipped),
since it has nothing to say about SQLite, and `make test` runs it once.
"""

from tests.conftest import DATABASE

collect_ignore = [] if DATABASE == "postgresql" else ["test_backup_restore.py"]
