"""Schemathesis hooks for the fuzz run in test_fuzz.py (`hooks` in schemathesis.toml).

The run checks that the service accepts every request the document admits
(`positive_data_acceptance`: never a 400 for one). A case meant to be valid is
changed here only where no generator can make a valid value, each below:

- Opaque tokens. A `cursor` (or a changes-feed `since`) is one the server handed
  out; a made-up one is rightly a 400. A valid case carries a real one, harvested
  before the run for the case's sort (`FUZZ_CURSORS`, `FUZZ_SINCE`); the lists of
  notifications, conversations and messages ask for their first page (no reminder
  fires in the run, and a conversation's cursor would need one made first). An
  `If-Match` names the task's current version, which only the server knows: a
  valid case sends `*`, any existing task.
- A push subscription's keys: no generator makes a point on P-256, so a valid case
  carries a browser's real subscription (to a made-up push service).
- A task's time rules, which depend on the task stored and the calendar: a rule or
  a reminder relative to the due date needs a due date, in the request or already
  on the task (which a later step of a stateful run may clear), and a rule of the
  document's NAME=VALUE form must also have occurrences. So a valid task body
  repeats nothing and reminds at instants (`schedulable`); the rules themselves are
  tested in test_recurrence.py and test_reminders.py.
- A move names another task than the one moved, which a schema can't relate to the
  path: a valid case moving a task next to itself moves it to the top instead.

Cases meant to be invalid keep whatever the fuzzer made; so does every case when
no tokens are given (a run by hand: expect made-up cursors reported as refused).
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
    if case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    query, body = case.query, case.body
    if case.path.endswith(("/notifications", "/conversations", "/messages")) and query:
        query.pop("cursor", None)
    if query and "cursor" in query:
        # The trash has one order, named as the list's sorts are.
        default_sort = "-deleted" if case.path.endswith("/trash") else "-created"
        query["cursor"] = CURSORS_BY_SORT.get(query.get("sort", default_sort), query["cursor"])
    if query and "since" in query and SINCE:
        query["since"] = SINCE
    if case.headers and "If-Match" in case.headers:
        case.headers["If-Match"] = "*"
    if "/webhooks" in case.path and isinstance(body, dict) and "url" in body:
        body["url"] = f"https://hooks.example.com/todo/{secrets.token_urlsafe(8)}"
    if case.method == "POST" and case.path.endswith("/push-subscriptions"):
        endpoint = f"https://push.example.com/send/{secrets.token_urlsafe(16)}"
        case.body = browser_subscription(endpoint).to_json()
    if "/tasks" in case.path and isinstance(body, dict):
        schedulable(body)
        schedulable(body.get("fields"))
        tasks = body.get("tasks")
        for task in tasks if isinstance(tasks, list) else []:
            schedulable(task)
    if case.path.endswith("/move") and isinstance(body, dict):
        moved = str(case.path_parameters.get("id"))
        if moved in (str(body.get("before")), str(body.get("after"))):
            case.body = {"to": "top"}
