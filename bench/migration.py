"""Time migration 0017 (every task into its owner's Inbox) on a table of 1,000,000 tasks.

    .venv/bin/python bench/migration.py                       # 1,000,000 tasks, 1,000 users
    .venv/bin/python bench/migration.py --tasks 100000        # a quick run

Creates a scratch PostgreSQL database (dropped afterwards, unless --keep), migrates it to tasks 0016
(the role's statement timeout then as `migrate` sets it, DB_STATEMENT_TIMEOUT_MS),
fills it with SQL (generate_series: --tasks over --users, a quarter completed, one in
50 in the trash), VACUUM ANALYZEs it, then runs `migrate tasks 0017` in this process
and times every statement it sends (connection.execute_wrapper). Prints the total,
the slowest statements against the statement timeout the migration sets for itself,
and checks that every task landed in its owner's Inbox, counted there.
"""

import argparse
import importlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scratch import fresh_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The table as migration 0016 leaves it: every column without a database default.
# ({tasks} and {users} are formatted in as integers.)
FILL = """
INSERT INTO accounts_betterauthuser (id, email, name, email_verified, first_seen, last_seen)
SELECT 'user-' || n, 'user-' || n || '@example.com', '', true, now(), now()
FROM generate_series(0, {users} - 1) AS n;

INSERT INTO tasks_task (user_id, title, description, completed, completed_at, priority,
                        due_date, tags, tag_keys, created_at, updated_at, version,
                        deleted_at, position, reminders, repeat_from, series_done)
SELECT 'user-' || g % {users},
       'Task ' || g, 'Details of task ' || g,
       g % 4 = 0, CASE WHEN g % 4 = 0 THEN ts + interval '1 hour' END,
       1 + g % 3,
       CASE WHEN g % 2 = 0 THEN ts + (g % 60) * interval '1 day' END,
       CASE WHEN g % 5 = 0 THEN '["work"]'::jsonb ELSE '[]'::jsonb END,
       CASE WHEN g % 5 = 0 THEN E'\\x1fwork\\x1f' ELSE '' END,
       ts, ts, 1,
       CASE WHEN g % 50 = 0 THEN ts + interval '2 hours' END,
       lpad(g::text, 16, '0'), '[]'::jsonb, 'due', 0
FROM (SELECT g, timestamptz '2026-01-01' + g * interval '1 second' AS ts
      FROM generate_series(0, {tasks} - 1) AS g) AS source;
"""

# Every task in its owner's Inbox, and each Inbox's counts those of its tasks.
CHECK = """
SELECT
  (SELECT COUNT(*) FROM tasks_task),
  (SELECT COUNT(*) FROM tasks_task JOIN tasks_tasklist AS inbox
     ON inbox.id = tasks_task.list_id AND inbox.user_id = tasks_task.user_id
     AND inbox.is_inbox),
  (SELECT COUNT(*) FROM tasks_tasklist AS inbox
   LEFT JOIN (SELECT list_id, COUNT(*) FILTER (WHERE deleted_at IS NULL) AS live,
                     COUNT(*) FILTER (WHERE deleted_at IS NULL AND NOT completed) AS open
              FROM tasks_task GROUP BY list_id) AS counted ON counted.list_id = inbox.id
   WHERE inbox.is_inbox AND (inbox.task_count, inbox.open_count)
     IS DISTINCT FROM (COALESCE(counted.live, 0), COALESCE(counted.open, 0)))
"""


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--slowest", type=int, default=8, help="statements to list")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_migration")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def main() -> None:
    args = options()
    import psycopg

    with fresh_database(args.pg, args.db, keep=args.keep) as url:
        manage = [sys.executable, "manage.py", "migrate", "-v0"]
        subprocess.run([*manage, "tasks", "0016"], cwd=ROOT, check=True)
        subprocess.run([*manage, "accounts"], cwd=ROOT, check=True)
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("SET statement_timeout = 0")  # the role's is the service's
            db.execute(FILL.format(tasks=int(args.tasks), users=int(args.users)).encode())
            db.execute("VACUUM ANALYZE")
        loaded = time.perf_counter() - started
        print(f"loaded {args.tasks:,} tasks of {args.users:,} users in {loaded:.1f} s")
        migrate(args.slowest)


def migrate(slowest: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    statements: list[tuple[float, str]] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, " ".join(str(sql).split())))

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (outside,) = cursor.fetchone()
    failed: DatabaseError | None = None
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        try:
            call_command("migrate", "tasks", "0017", verbosity=0)
        except DatabaseError as error:
            failed = error
    total = time.perf_counter() - started

    migration = importlib.import_module("tasks.migrations.0017_lists_and_subtasks")
    backfill = [
        seconds
        for seconds, sql in statements
        if sql.startswith("UPDATE tasks_task AS task SET list_id")
    ]
    outcome = f"FAILED ({str(failed).strip()})" if failed else "done"
    print(
        f"migrate tasks 0017: {outcome} after {total:.1f} s in one transaction, "
        f"{len(statements)} statements ({sum(s for s, _ in statements):.1f} s; the rest is "
        f"Python and the COMMIT); "
        f"the role's statement timeout {outside}, the migration's own "
        f"{migration.STATEMENT_TIMEOUT} (SET LOCAL)"
    )
    if backfill:
        print(
            f"backfill: {len(backfill)} UPDATEs of {migration.BATCH:,} ids, "
            f"median {statistics.median(backfill):.2f} s, longest {max(backfill):.2f} s, "
            f"all {sum(backfill):.1f} s"
        )
    print(f"\nslowest statements (of the {migration.STATEMENT_TIMEOUT} each may take):")
    for seconds, sql in sorted(statements, reverse=True)[:slowest]:
        print(f"{seconds:>8.2f} s  {sql[:110]}")
    if failed:
        sys.exit(1)
    with connection.cursor() as cursor:
        cursor.execute(CHECK)
        tasks, in_inbox, miscounted = cursor.fetchone()
    connection.close()
    print(
        f"\n{in_inbox:,} of {tasks:,} tasks in their owner's Inbox; {miscounted} Inboxes miscounted"
    )
    if in_inbox != tasks or miscounted:
        sys.exit(1)


if __name__ == "__main__":
    main()
