"""Schemathesis hooks for the fuzz run in test_fuzz.py (`hooks` in schemathesis.toml).

A cursor is opaque: no generator can make a valid one, and a made-up one is rightly
a 400. So a case meant to be valid carries a real cursor, one the server handed out
for the case's sort (`FUZZ_CURSORS`, harvested from `Link` headers before the run),
and so does a changes-feed token (`FUZZ_SINCE`).
Cases meant to be invalid keep whatever the fuzzer made, as does every case when no
cursors are given (a run by hand: expect made-up cursors reported as refused).

Likewise a push subscription's keys: no generator makes a point on P-256, so a case
meant to be valid carries a browser's real subscription (to a made-up push service).

A task's time fields have rules the schema can't state: a recurrence rule is of a
grammar, and a rule or a reminder relative to the due date needs a due date, in the
request or already on the task (which a later step of a stateful run may clear). So a
task body meant to be valid repeats nothing and reminds at instants
(`schedulable`); the rules themselves are tested in test_recurrence.py and
test_reminders.py, and invalid cases keep whatever the fuzzer made.

The notifications have no cursor to harvest (no reminder fires in the run): a valid
case of their list asks for the first page.
"""

import json
import os
import secrets
from typing import Any

import schemathesis
from schemathesis.generation import GenerationMode

from testing.push_service import browser_subscription

CURSORS_BY_SORT: dict[str, str] = json.loads(os.environ.get("FUZZ_CURSORS", "{}"))
# A changes-feed token is as opaque as a cursor: a valid case carries a real one.
SINCE = os.environ.get("FUZZ_SINCE")


def schedulable(task: Any) -> None:
    """Make a task body's time fields valid whatever the task's state: no rule, and
    each reminder an `at`."""
    if not isinstance(task, dict):
        return
    if "recurrence" in task:
        task["recurrence"] = None
    if isinstance(task.get("reminders"), list):
        task["reminders"] = [
            {"at": reminder.get("at", "2030-01-01T09:00:00Z")}
            if isinstance(reminder, dict)
            else reminder
            for reminder in task["reminders"]
        ]


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    positive = case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and "/tasks" in case.path and isinstance(case.body, dict):
        schedulable(case.body)
        schedulable(case.body.get("fields"))
        for task in case.body.get("tasks") or []:
            schedulable(task)
    if positive and case.path.endswith("/notifications") and case.query:
        case.query.pop("cursor", None)
    query = case.query
    if query and "cursor" in query and case.meta.generation.mode == GenerationMode.POSITIVE:
        # The trash has one order, named as the list's sorts are.
        default_sort = "-deleted" if case.path.endswith("/trash") else "-created"
        query["cursor"] = CURSORS_BY_SORT.get(query.get("sort", default_sort), query["cursor"])
    if (
        case.method == "POST"
        and case.path.endswith("/push-subscriptions")
        and case.meta.generation.mode == GenerationMode.POSITIVE
    ):
        endpoint = f"https://push.example.com/send/{secrets.token_urlsafe(16)}"
        case.body = browser_subscription(endpoint).to_json()
    if (
        query
        and "since" in query
        and SINCE
        and case.meta.generation.mode == GenerationMode.POSITIVE
    ):
        query["since"] = SINCE
