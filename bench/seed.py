"""Bulk-load benchmark tasks with the project's own model code (run by bench/run.py).

Usage: python bench/seed.py [--lists N] USER_ID COUNT [USER_ID COUNT ...] (DATABASE_URL
in the environment). Realistic, deterministic tasks: titles, descriptions, priorities,
tags, some due dates, a quarter completed; created one second apart. With --lists N,
each user has N lists (the Inbox and N - 1 more) and their tasks go to them in turn.
Written by the same rules as the API's writes (tasks.queries).
"""

import argparse
import os
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")

import django

django.setup()

from accounts.models import BetterAuthUser  # noqa: E402
from tasks import queries  # noqa: E402
from tasks.models import Priority, TaskList  # noqa: E402

WORDS = [
    "buy",
    "milk",
    "call",
    "mom",
    "email",
    "report",
    "review",
    "pull",
    "request",
    "fix",
    "bug",
    "plan",
    "sprint",
    "book",
    "flight",
    "pay",
    "rent",
    "water",
    "plants",
    "clean",
    "kitchen",
    "draft",
    "proposal",
    "update",
    "docs",
    "renew",
    "passport",
    "schedule",
    "dentist",
]
TAGS = ("work", "home", "errand", "urgent", "later", "health", "finance", "reading")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def tasks_for(
    user_id: str, count: int, lists: list[int], rng: random.Random
) -> Iterator[tuple[str, dict, datetime]]:
    for i in range(count):
        created = EPOCH + timedelta(seconds=i)
        fields = {
            "list_id": lists[i % len(lists)],
            "title": f"{' '.join(rng.choices(WORDS, k=rng.randint(2, 6))).capitalize()} #{i}",
            "description": " ".join(rng.choices(WORDS, k=rng.randint(0, 25))),
            "priority": rng.choice(Priority.values),
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "completed": rng.random() < 0.25,
            "due_date": created + timedelta(days=rng.randint(0, 60))
            if rng.random() < 0.5
            else None,
        }
        yield user_id, fields, created


def lists_of(user_id: str, count: int) -> list[int]:
    """The ids of the user's Inbox and `count - 1` lists made for them."""
    inbox = TaskList.objects.get(user_id=user_id, is_inbox=True).pk
    made = [
        queries.list_create(user_id=user_id, fields={"name": f"List {n}"}) for n in range(1, count)
    ]
    return [inbox, *(made_list.pk for made_list in made)]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lists", type=int, default=1, help="lists per user, the Inbox one")
    parser.add_argument("pairs", nargs="+", metavar="USER_ID COUNT")
    args = parser.parse_args(argv)
    rng = random.Random(42)
    pairs = args.pairs
    for user_id, count in zip(pairs[::2], map(int, pairs[1::2]), strict=True):
        BetterAuthUser.objects.get_or_create(id=user_id)
        queries.tasks_load(tasks_for(user_id, count, lists_of(user_id, args.lists), rng))


if __name__ == "__main__":
    main(sys.argv[1:])
