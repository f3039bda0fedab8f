"""What the OpenAPI document says of each route of tasks/views.py: summaries,
descriptions, parameters, examples. Each view class takes its entry here as its one
decorator, so the views read as HTTP in, a call, HTTP out."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from accounts.schema import USER_ID_PARAMETER
from tasks.bulk import BulkRequestSerializer
from tasks.filters import ChangesQuery, ListDeleteQuery, PageQuery, TaskListQuery
from tasks.serializers import (
    BulkResultSerializer,
    ChangesSerializer,
    CompletionRecordSerializer,
    CompletionSerializer,
    ListSerializer,
    MoveSerializer,
    NotificationSerializer,
    TaskSerializer,
    TrashedTaskSerializer,
)

TASK_EXAMPLE = {
    "id": 42,
    "user_id": "Yk3uJ0bq8XyW2mQp4LrT9sVn6aDc1EfG",
    "title": "Buy oat milk",
    "description": "The barista kind.",
    "completed": False,
    "completed_at": None,
    "priority": "high",
    "due_date": "2025-06-01T17:00:00Z",
    "tags": ["groceries"],
    "time_zone": "Europe/Berlin",
    "recurrence": None,
    "repeat_from": "due",
    "reminders": [{"before_minutes": 30, "remind_at": "2025-06-01T16:30:00Z"}],
    "created_at": "2025-05-30T08:12:00Z",
    "updated_at": "2025-05-30T08:12:00Z",
    "version": 1,
    "position": "174859272",
    "list_id": 7,
    "parent_id": None,
}
TRASHED_TASK_EXAMPLE = {**TASK_EXAMPLE, "version": 2, "deleted_at": "2025-05-31T09:30:00Z"}
NEW_TASK_EXAMPLE = OpenApiExample(
    "New task",
    value={
        "title": "Buy oat milk",
        "description": "The barista kind.",
        "priority": "high",
        "due_date": "2025-06-01T17:00:00Z",
        "tags": ["groceries"],
    },
    request_only=True,
)
TASK_RESPONSE_EXAMPLE = OpenApiExample("Task", value=TASK_EXAMPLE, response_only=True)

TASK_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The task's id."
)


TASKS = extend_schema_view(
    list=extend_schema(
        summary="List tasks",
        description="Newest first by default, keyset-paged: the next page is in "
        '`Link: <url>; rel="next"`, the number of matches in `X-Total-Count`.',
        parameters=[USER_ID_PARAMETER, TaskListQuery],
        responses={
            200: OpenApiResponse(
                TaskSerializer(many=True),
                examples=[OpenApiExample("A page", value=TASK_EXAMPLE, response_only=True)],
            )
        },
    ),
    create=extend_schema(
        summary="Create a task",
        parameters=[USER_ID_PARAMETER],
        examples=[NEW_TASK_EXAMPLE, TASK_RESPONSE_EXAMPLE],
        responses={201: TaskSerializer},
    ),
    retrieve=extend_schema(
        summary="Get a task",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        examples=[TASK_RESPONSE_EXAMPLE],
    ),
    update=extend_schema(
        summary="Replace a task",
        description="`title` is required; fields not sent keep their values.",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        examples=[NEW_TASK_EXAMPLE, TASK_RESPONSE_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change some fields of a task",
        description="Only the fields sent change; `{}` changes nothing.",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        examples=[
            OpenApiExample("Reprioritise", value={"priority": "low"}, request_only=True),
            TASK_RESPONSE_EXAMPLE,
        ],
    ),
    destroy=extend_schema(
        summary="Delete a task (to the trash)",
        description="The task moves to the trash, whence it can be restored for "
        "`TRASH_RETENTION_DAYS`; from now on it is 404 here and absent from the list.",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        responses={204: OpenApiResponse(description="In the trash; no body.")},
    ),
    complete=extend_schema(
        summary="Toggle or set completion",
        description="No body (or `{}`): toggle, atomically in the database. "
        '`{"completed": true|false}`: set; setting the current state changes nothing.',
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        request=CompletionSerializer,
        responses={200: TaskSerializer},
        examples=[
            OpenApiExample("Set", value={"completed": True}, request_only=True),
            TASK_RESPONSE_EXAMPLE,
        ],
    ),
    completions=extend_schema(
        summary="Completions of a recurring task",
        operation_id="tasks_completions",
        description="The occurrences completed, newest first: when, and which (its due date).",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        responses={200: CompletionRecordSerializer(many=True)},
        examples=[
            OpenApiExample(
                "Completions",
                value=[
                    {"completed_at": "2026-12-14T08:55:00Z", "due_date": "2026-12-14T08:00:00Z"}
                ],
                response_only=True,
            )
        ],
    ),
    bulk=extend_schema(
        summary="Act on many tasks at once",
        operation_id="tasks_bulk",
        description="`complete`, `reopen`, `delete` (to the trash) or `update` (with "
        "`fields`, as PATCH takes them, but `title`) the tasks named by `ids` (1..200) or "
        "matching `where` (the list's filters); or `create` up to 100 `tasks`. All or "
        "nothing: an id that names none of your live tasks is a 404 naming it (`ids.3`), "
        "a bad task a 400 naming it (`tasks.3.title`), and nothing changes. A `where` "
        "changes at most `BULK_MAX_TASKS` (1,000) tasks, at most 200 of them that repeat "
        "or have reminders; beyond either it is a 409 naming `where`.",
        parameters=[USER_ID_PARAMETER],
        request=BulkRequestSerializer,
        responses={200: BulkResultSerializer, 201: BulkResultSerializer},
        examples=[
            OpenApiExample(
                "Complete", value={"action": "complete", "ids": [42, 43]}, request_only=True
            ),
            OpenApiExample(
                "Clear completed",
                value={"action": "delete", "where": {"status": "completed"}},
                request_only=True,
            ),
            OpenApiExample(
                "Tag",
                value={"action": "update", "ids": [42], "fields": {"tags": ["work"]}},
                request_only=True,
            ),
            OpenApiExample(
                "Create",
                value={
                    "action": "create",
                    "tasks": [{"title": "Buy oat milk"}, {"title": "Call mum"}],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Written", value={"count": 1, "tasks": [TASK_EXAMPLE]}, response_only=True
            ),
            OpenApiExample("Deleted", value={"count": 2, "ids": [42, 43]}, response_only=True),
        ],
    ),
    move=extend_schema(
        summary="Move a task in the manual order",
        operation_id="tasks_move",
        description='`{"before": id}`, `{"after": id}` (another of your live tasks, else '
        "404 naming it) or "
        '`{"to": "top"|"bottom"}`. Only the moved task changes (its `position` and '
        "`version`), unless its new gap is spent: then a few neighbours are spread out "
        "too. List in this order with `sort=position`.",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        request=MoveSerializer,
        responses={200: TaskSerializer},
        examples=[
            OpenApiExample("After", value={"after": 41}, request_only=True),
            OpenApiExample("To the top", value={"to": "top"}, request_only=True),
            TASK_RESPONSE_EXAMPLE,
        ],
    ),
)

LIST_EXAMPLE = {
    "id": 7,
    "name": "Groceries",
    "color": "#2e7d32",
    "is_inbox": False,
    "position": "1748592",
    "version": 4,
    "task_count": 3,
    "open_count": 2,
    "created_at": "2025-05-30T08:10:00Z",
    "updated_at": "2025-05-30T08:12:00Z",
}
LIST_RESPONSE_EXAMPLE = OpenApiExample("List", value=LIST_EXAMPLE, response_only=True)
NEW_LIST_EXAMPLE = OpenApiExample(
    "New list", value={"name": "Groceries", "color": "#2E7D32"}, request_only=True
)
LIST_ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The list's id."
)

LISTS = extend_schema_view(
    list=extend_schema(
        summary="List your lists",
        operation_id="lists_list",
        description="All of them (at most `MAX_LISTS_PER_USER`), in your order "
        "(`position`): the Inbox first until moved. A plain array, not paged.",
        parameters=[USER_ID_PARAMETER],
        responses={200: ListSerializer(many=True)},
        examples=[OpenApiExample("Lists", value=[LIST_EXAMPLE], response_only=True)],
    ),
    create=extend_schema(
        summary="Create a list",
        operation_id="lists_create",
        description="Last in your order. A name one of your lists has (ignoring case) is "
        "a 409 naming `name`; so is one list beyond `MAX_LISTS_PER_USER` (1,000).",
        parameters=[USER_ID_PARAMETER],
        examples=[NEW_LIST_EXAMPLE, LIST_RESPONSE_EXAMPLE],
        responses={201: ListSerializer},
    ),
    retrieve=extend_schema(
        summary="Get a list",
        operation_id="lists_retrieve",
        parameters=[USER_ID_PARAMETER, LIST_ID_PARAMETER],
        examples=[LIST_RESPONSE_EXAMPLE],
    ),
    update=extend_schema(
        summary="Replace a list",
        operation_id="lists_update",
        description="`name` is required; `color` not sent keeps its value.",
        parameters=[USER_ID_PARAMETER, LIST_ID_PARAMETER],
        examples=[NEW_LIST_EXAMPLE, LIST_RESPONSE_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Rename or recolor a list",
        operation_id="lists_partial_update",
        parameters=[USER_ID_PARAMETER, LIST_ID_PARAMETER],
        examples=[
            OpenApiExample("Rename", value={"name": "Errands"}, request_only=True),
            LIST_RESPONSE_EXAMPLE,
        ],
    ),
    destroy=extend_schema(
        summary="Delete a list",
        operation_id="lists_destroy",
        description="A list that holds live tasks is a 409 unless `tasks=trash` (they go "
        "to the trash with it, in one transaction) or `tasks=move&to=<list id>` (they "
        "move there first). Its tasks already in the trash go to the Inbox (or to `to`), "
        "where a restore brings them back. The Inbox can't be deleted (409).",
        parameters=[USER_ID_PARAMETER, LIST_ID_PARAMETER, ListDeleteQuery],
        responses={204: OpenApiResponse(description="Deleted; no body.")},
    ),
    move=extend_schema(
        summary="Move a list in your order",
        operation_id="lists_move",
        description='`{"before": id}`, `{"after": id}` (another of your lists, else 404 '
        'naming it) or `{"to": "top"|"bottom"}`, as a task\'s move.',
        parameters=[USER_ID_PARAMETER, LIST_ID_PARAMETER],
        request=MoveSerializer,
        responses={200: ListSerializer},
        examples=[
            OpenApiExample("To the top", value={"to": "top"}, request_only=True),
            LIST_RESPONSE_EXAMPLE,
        ],
    ),
)

TRASH_LIST = extend_schema(
    summary="List the trash",
    operation_id="trash_list",
    description="Most recently deleted first, keyset-paged like the task list.",
    parameters=[USER_ID_PARAMETER, PageQuery],
    responses={
        200: OpenApiResponse(
            TrashedTaskSerializer(many=True),
            examples=[OpenApiExample("A page", value=TRASHED_TASK_EXAMPLE, response_only=True)],
        )
    },
)


TRASH_EMPTY = extend_schema(
    summary="Empty the trash",
    operation_id="trash_empty",
    parameters=[USER_ID_PARAMETER],
    request=None,
    responses={204: OpenApiResponse(description="Every task in it deleted for good.")},
)


TRASH_DESTROY = extend_schema(
    summary="Delete a task in the trash for good",
    operation_id="trash_destroy",
    parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
    responses={204: OpenApiResponse(description="Deleted for good; no body.")},
)


TRASH_RESTORE = extend_schema(
    summary="Restore a task from the trash",
    operation_id="trash_restore",
    description="Back in the list with its id; its version steps.",
    parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
    request=None,
    responses={200: TaskSerializer},
    examples=[TASK_RESPONSE_EXAMPLE],
)


CHANGES_POLL = extend_schema(
    summary="Changes since a token (sync)",
    description="Without `since`: every live task (a full sync). With it: the tasks "
    "changed since, each once in its state now, in `upserted` if live, in `deleted` if "
    "trashed or gone. Page with `since=<next>` while `more`; poll later with the last "
    "`next`. A token older than `TRASH_RETENTION_DAYS` is 410 (sync in full).",
    operation_id="changes_list",
    parameters=[USER_ID_PARAMETER, ChangesQuery],
    responses={200: ChangesSerializer},
    examples=[
        OpenApiExample(
            "A poll",
            value={
                "upserted": [TASK_EXAMPLE],
                "deleted": [17],
                "next": "1893.42:1vLq3b:Cs0Yz5cX3ltkoK4Nf0xvbMPe4bC6dSg7LxkVx-3Ymbo",
                "more": False,
            },
            response_only=True,
        )
    ],
)


NOTIFICATIONS_LIST = extend_schema(
    summary="List notifications",
    operation_id="notifications_list",
    description="Reminders that fired, newest first, keyset-paged like the task list.",
    parameters=[USER_ID_PARAMETER, PageQuery],
    responses={200: NotificationSerializer(many=True)},
)


NOTIFICATIONS_READ = extend_schema(
    summary="Mark a notification read",
    operation_id="notifications_read",
    parameters=[
        USER_ID_PARAMETER,
        OpenApiParameter(
            "id",
            OpenApiTypes.INT64,
            OpenApiParameter.PATH,
            description="The notification's id.",
        ),
    ],
    request=None,
    responses={200: NotificationSerializer},
)
