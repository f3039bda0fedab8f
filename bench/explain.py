"""EXPLAIN ANALYZE the list queries on 1,000,000 tasks (100,000 of them one user's).

    .venv/bin/python bench/explain.py [--pg postgresql://postgres@127.0.0.1:5432] [--db NAME]

Creates the database, migrates it, fills it with SQL (generate_series), then prints
the plan of the exact SQL the service runs for: the default list (newest first), the
same filtered by one list (`list_id`; the user has 10 lists, 10,000 tasks in each),
the default list after a cursor 50,000 tasks deep, and two filtered lists.
"""

import argparse
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILL = """
INSERT INTO accounts_betterauthuser (id, email, name, email_verified, first_seen, last_seen)
SELECT 'user-' || n, 'user-' || n || '@example.com', '', true, now(), now()
FROM generate_series(0, 900) AS n;

INSERT INTO tasks_tasklist (user_id, name, name_key, color, is_inbox, position, version,
                            task_count, open_count, created_at, updated_at, change_id)
SELECT 'user-0', 'List ' || n, 'list ' || n, NULL, false, 'b' || n, 1, 0, 0, now(), now(), 0
FROM generate_series(1, 9) AS n;

WITH lists AS (SELECT user_id, array_agg(id ORDER BY id) AS ids
               FROM tasks_tasklist GROUP BY user_id)
INSERT INTO tasks_task (user_id, list_id, title, description, completed, completed_at,
                        priority, due_date, tags, tag_keys, created_at, updated_at, version,
                        position, reminders, repeat_from, series_done, children)
SELECT owner, ids[1 + g % array_length(ids, 1)],
       'Task ' || g || CASE WHEN g % 7 = 0 THEN ' report' ELSE '' END,
       'Details of task ' || g,
       g % 4 = 0, CASE WHEN g % 4 = 0 THEN ts + interval '1 hour' END,
       1 + g % 3,
       CASE WHEN g % 2 = 0 THEN ts + (g % 60) * interval '1 day' END,
       CASE WHEN g % 5 = 0 THEN '["work"]'::jsonb ELSE '[]'::jsonb END,
       CASE WHEN g % 5 = 0 THEN E'\\x1fwork\\x1f' ELSE '' END,
       ts, ts, 1, lpad(g::text, 16, '0'), '[]'::jsonb, 'due', 0, 0
FROM (SELECT g, timestamptz '2026-01-01' + g * interval '1 second' AS ts,
             CASE WHEN g < 100000 THEN 'user-0'
                  ELSE 'user-' || (1 + (g - 100000) / 1000) END AS owner
      FROM generate_series(0, 999999) AS g) AS source
JOIN lists ON lists.user_id = source.owner;
"""

# "<list>" stands for the id of one of user-0's lists (not the Inbox).
CASES = {
    "default list (newest first, 50)": ({}, None),
    "list_id=<list> (newest first, 50)": ({"list_id": "<list>"}, None),
    "page 1,001 by cursor (50,000 deep)": (
        {},
        (datetime(2026, 1, 1, 13, 53, 20, tzinfo=UTC), 50000),
    ),
    "status=pending&sort=due_date": ({"status": "pending", "sort": "due_date"}, None),
    "tag=work&search=report": ({"tag": "work", "search": "report"}, None),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_explain")
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=f"{args.pg}/{args.db}",
        SECRET_KEY=secrets.token_urlsafe(50),
        BETTER_AUTH_SECRET=secrets.token_urlsafe(40),
        DB_STATEMENT_TIMEOUT_MS="0",
    )
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.db}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as db:
        db.execute(FILL)
        db.execute("VACUUM ANALYZE")

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    django.setup()
    from django.db import connection

    from tasks import queries
    from tasks.filters import parse_list_query

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MAX(id) FROM tasks_tasklist WHERE user_id = 'user-0' AND NOT is_inbox"
        )
        (list_id,) = cursor.fetchone()
        for title, (params, after) in CASES.items():
            named = {
                name: str(list_id) if value == "<list>" else value for name, value in params.items()
            }
            sql, values = queries.page_statement(
                user_id="user-0", query=parse_list_query(named), after=after, size=51
            )
            cursor.execute(sql, values)  # the plan as a repeated request finds the cache
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, values)
            print(f"\n== {title}\n" + "\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
