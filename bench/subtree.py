"""Time the subtree writes on a task with 1,000 descendants, and count their statements.

    .venv/bin/python bench/subtree.py [--repeat 15] [--vacuum] [--explain MS]

Creates a scratch PostgreSQL database (dropped afterwards), migrates it, and gives one
user a tree of 1,001 tasks, four levels deep (the root, 10 children, 9 under each,
10 under each of those), beside 1,000 plain tasks of theirs in the Inbox. Then runs
each subtree write through tasks.queries, as the API does, --repeat times:

- move: `task_place` of the root to another list (and back, alternately);
- complete: `task_set_completed(completed=True)` of the root (completes the 1,000);
- reopen leaf: `task_set_completed(completed=False)` of a leaf under the completed
  tree (reopens its three ancestors);
- trash: `task_trash` of the root (the 1,000 go with it);
- restore: `task_restore` of the root (they come back with it).

Untimed writes between repeats put the tree back as each write expects it (and with
--vacuum, a VACUUM clears the row versions the last ones left behind). Prints,
per write, the median, first, last and worst milliseconds, the statements it ran
(CaptureQueriesContext) and its slowest statement's median milliseconds, and the dead
row versions the writes left in the count tables (their triggers write those rows
once per task).
"""

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from scratch import fresh_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


USER = "bench-subtree"
# Children per task at each level below the root: 10 + 10 * 9 + 90 * 10 = 1,000.
FAN_OUT = (10, 9, 10)
PLAIN_TASKS = 1000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Timings:
    """One write's runs: wall milliseconds, statements, slowest statement's ms."""

    ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    slowest_ms: list[float] = field(default_factory=list)


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_subtree")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM the tables between repeats (untimed), as autovacuum would in time",
    )
    parser.add_argument(
        "--explain",
        metavar="MS",
        type=int,
        help="print the plan (auto_explain, with triggers) of each statement over MS ms",
    )
    return parser.parse_args()


def main() -> None:
    args = options()
    with fresh_database(args.pg, args.db):
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
        measure(args.repeat, args.explain, vacuum=args.vacuum)


def build_tree(user_id: str, inbox: int) -> tuple[int, int]:
    """The root's id and a leaf's: a tree of 1 + 1,000 tasks in `inbox`, and
    PLAIN_TASKS top-level tasks beside it."""
    from tasks import queries

    created = iter(EPOCH + timedelta(seconds=n) for n in range(100_000))

    def load(parents: list[int | None], each: int) -> list[int]:
        rows = [
            (user_id, {"title": f"Step {n}", "list_id": inbox, "parent_id": parent}, next(created))
            for parent in parents
            for n in range(each)
        ]
        return [task.pk for task in queries.tasks_load(rows)]

    load([None], PLAIN_TASKS)
    level = load([None], 1)
    root = level[0]
    for each in FAN_OUT:
        level = load(list(level), each)
    return root, level[-1]


def explain_slow_statements(min_ms: int) -> None:
    """Have PostgreSQL send this connection, as notices, the analyzed plan of each
    statement slower than `min_ms`, with the time its triggers took."""
    from django.db import connection

    connection.ensure_connection()
    connection.connection.add_notice_handler(lambda notice: print(notice.message_primary))
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        for name, value in (
            ("log_min_duration", f"{min_ms}ms"),
            ("log_analyze", "on"),
            ("log_triggers", "on"),
            ("log_buffers", "on"),
            ("log_nested_statements", "on"),
            ("log_level", "notice"),
        ):
            cursor.execute(f"SET auto_explain.{name} = '{value}'")


def measure(repeat: int, explain_ms: int | None, *, vacuum: bool) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import BetterAuthUser
    from tasks import queries
    from tasks.models import Task, TaskList

    user = BetterAuthUser.objects.create(id=USER)
    inbox = TaskList.objects.get(user=user, is_inbox=True).pk
    other = queries.list_create(user_id=USER, fields={"name": "Elsewhere"}).pk
    root, leaf = build_tree(USER, inbox)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    descendants = Task.objects.filter(user_id=USER, parent__isnull=False).count()
    print(f"tree: root {root}, {descendants} descendants; {PLAIN_TASKS} plain tasks beside it")

    def reopen_all() -> None:
        Task.objects.filter(user_id=USER, completed=True).update(completed=False, completed_at=None)

    if explain_ms is not None:
        explain_slow_statements(explain_ms)
    results: dict[str, Timings] = {}

    def timed(name: str, write: Callable[[], object]) -> None:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            answer = write()
            elapsed = (time.perf_counter() - started) * 1000
        assert answer is not None, f"{name} found no task"
        if explain_ms is not None:
            print(f"-- {name}: {elapsed:.1f} ms")
        runs = results.setdefault(name, Timings())
        runs.ms.append(elapsed)
        runs.statements.append(len(captured.captured_queries))
        runs.slowest_ms.append(max(float(q["time"]) * 1000 for q in captured.captured_queries))

    complete = partial(queries.task_set_completed, user_id=USER, completed=True)
    reopen = partial(queries.task_set_completed, user_id=USER, completed=False)
    for n in range(repeat):
        target = other if n % 2 == 0 else inbox
        timed("move", partial(queries.task_place, user_id=USER, task_id=root, list_id=target))
        timed("complete", partial(complete, task_id=root))
        timed("reopen leaf", partial(reopen, task_id=leaf))
        reopen_all()
        timed("trash", partial(queries.task_trash, user_id=USER, task_id=root))
        timed("restore", partial(queries.task_restore, user_id=USER, task_id=root))
        if vacuum:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM tasks_task, tasks_tasklist, tasks_taskcount")

    check_tree(root, target, descendants)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT relname, n_dead_tup, pg_relation_size(relid) FROM pg_stat_user_tables "
            "WHERE relname IN ('tasks_tasklist', 'tasks_taskcount') ORDER BY relname"
        )
        dead = ", ".join(f"{name} {rows:,} ({size:,} bytes)" for name, rows, size in cursor)
    print(f"dead row versions left in the count tables: {dead}")
    print(f"\n{repeat} runs each")
    print(
        f"{'write':<12} {'median ms':>10} {'first ms':>9} {'last ms':>8} {'max ms':>8} "
        f"{'statements':>11} {'slowest stmt ms':>16}"
    )
    for name, runs in results.items():
        counts = sorted(set(runs.statements))
        print(
            f"{name:<12} {statistics.median(runs.ms):>10.1f} {runs.ms[0]:>9.1f} "
            f"{runs.ms[-1]:>8.1f} {max(runs.ms):>8.1f} {'/'.join(map(str, counts)):>11} "
            f"{statistics.median(runs.slowest_ms):>16.1f}"
        )


def check_tree(root: int, list_id: int, descendants: int) -> None:
    """The writes did what they say: the whole tree is live, in `list_id`, open."""
    from tasks.models import Task

    tree = Task.objects.filter(list_id=list_id, deleted_at__isnull=True, completed=False)
    in_tree = tree.exclude(parent__isnull=True).count() + tree.filter(pk=root).count()
    assert in_tree == descendants + 1, f"{in_tree} tasks of the tree as they should be"


if __name__ == "__main__":
    main()
