"""`/api/{user_id}/tasks`, `/trash` and `/changes`: HTTP in, a call of tasks.queries
(or tasks.changes), HTTP out."""

from typing import Any, NoReturn

from django.utils.encoding import escape_uri_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.schema import USER_ID_PARAMETER
from accounts.selectors import user_time_zone
from accounts.views import OwnerViewSet
from tasks import queries
from tasks.bulk import BulkRequestSerializer, bulk_apply
from tasks.changes import changes_since
from tasks.exceptions import PreconditionFailed, TasksNotFound
from tasks.filters import (
    ChangesQuery,
    PageQuery,
    TaskListQuery,
    parse_changes_query,
    parse_list_query,
    parse_page_query,
    parse_trash_query,
)
from tasks.idempotency import idempotent
from tasks.models import MAX_TASK_ID, Notification
from tasks.pagination import paginate, paginate_notifications
from tasks.preconditions import etag, if_match_versions, not_modified
from tasks.serializers import (
    BulkResultSerializer,
    ChangesSerializer,
    CompletionRecordSerializer,
    CompletionSerializer,
    MoveSerializer,
    NotificationSerializer,
    TaskSerializer,
    TrashedTaskSerializer,
    completion_json,
    notification_json,
    task_json,
    trashed_task_json,
    validate_completion,
    validate_move,
    validate_task,
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


def _path_id(raw: str) -> int:
    """The id in the URL (a task's, a notification's); one that can't name a row (ids
    are 64-bit) is a 404 like a missing one."""
    # The length bound comes first: int() refuses a string of over 4,300 digits.
    if len(raw) > len(str(MAX_TASK_ID)) or not raw.isascii() or not raw.isdigit():
        raise NotFound()
    row_id = int(raw)
    if not 0 < row_id <= MAX_TASK_ID:
        raise NotFound()
    return row_id


@extend_schema_view(
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
)
class TaskViewSet(OwnerViewSet):
    """The caller's own tasks. Another user's task answers 404, like a missing one."""

    lookup_value_regex = "[^/]+"
    serializer_class = TaskSerializer

    def list(self, request: Request, user_id: str) -> Response:
        # A plain dict, not the QueryDict: DRF reads `?limit=` from a QueryDict as
        # if it were absent, and an empty value should be a 400, not the default.
        query = parse_list_query(
            request.query_params.dict(), owner_zone=lambda: user_time_zone(self.owner_id)
        )
        page = paginate(user_id=self.owner_id, query=query)
        return Response([task_json(task) for task in page.items], headers=page.headers(request))

    def create(self, request: Request, user_id: str) -> Response:
        return idempotent(self, request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        fields = validate_task(request.data, partial=False)
        task = queries.task_insert(user_id=self.owner_id, fields=fields)
        # The collection's own path plus the id: the path's user segment (`me`, or the
        # sub as the client spelled it) stays, with no URL reversed per create.
        location = f"{escape_uri_path(request.path).rstrip('/')}/{task['id']}"
        return Response(
            task_json(task),
            status=status.HTTP_201_CREATED,
            headers={
                "Location": request.build_absolute_uri(location),
                "ETag": etag(task["version"]),
            },
        )

    def retrieve(self, request: Request, user_id: str, pk: str) -> Response:
        task = queries.task_get(user_id=self.owner_id, task_id=_path_id(pk))
        if task is None:
            raise NotFound()
        headers = {"ETag": etag(task["version"])}
        if not_modified(request, task["version"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(task_json(task), headers=headers)

    def update(self, request: Request, user_id: str, pk: str) -> Response:
        return self._write(pk, request, partial=False)

    def partial_update(self, request: Request, user_id: str, pk: str) -> Response:
        return self._write(pk, request, partial=True)

    def _write(self, pk: str, request: Request, *, partial: bool) -> Response:
        task_id = _path_id(pk)
        fields = validate_task(request.data, partial=partial)
        versions = if_match_versions(request)
        task = queries.task_update(
            user_id=self.owner_id, task_id=task_id, fields=fields, versions=versions
        )
        return self._found(task, task_id=task_id, versions=versions)

    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        task_id = _path_id(pk)
        versions = if_match_versions(request)
        if queries.task_trash(user_id=self.owner_id, task_id=task_id, versions=versions) is None:
            self._refuse(task_id, versions=versions)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
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
    )
    @action(detail=True, methods=["patch"], url_path="complete")
    def complete(self, request: Request, user_id: str, pk: str) -> Response:
        task_id = _path_id(pk)
        completed = validate_completion(request.data)
        versions = if_match_versions(request)
        task = queries.task_set_completed(
            user_id=self.owner_id, task_id=task_id, completed=completed, versions=versions
        )
        return self._found(task, task_id=task_id, versions=versions)

    @extend_schema(
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
    )
    @action(detail=True, methods=["get"], url_path="completions")
    def completions(self, request: Request, user_id: str, pk: str) -> Response:
        completions = queries.task_completions(user_id=self.owner_id, task_id=_path_id(pk))
        if completions is None:
            raise NotFound()
        return Response([completion_json(completion) for completion in completions])

    @extend_schema(
        summary="Act on many tasks at once",
        operation_id="tasks_bulk",
        description="`complete`, `reopen`, `delete` (to the trash) or `update` (with "
        "`fields`, as PATCH takes them, but `title`) the tasks named by `ids` (1..200) or "
        "matching `where` (the list's filters); or `create` up to 100 `tasks`. All or "
        "nothing: an id that names none of your live tasks is a 404 naming it (`ids.3`), "
        "a bad task a 400 naming it (`tasks.3.title`), and nothing changes.",
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
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request, user_id: str) -> Response:
        return idempotent(self, request, lambda: self._bulk(request))

    def _bulk(self, request: Request) -> Response:
        result = bulk_apply(user_id=self.owner_id, data=request.data)
        count = len(result.tasks)
        if result.action == "delete":
            body: dict[str, Any] = {"count": count, "ids": [task["id"] for task in result.tasks]}
        else:
            body = {"count": count, "tasks": [task_json(task) for task in result.tasks]}
        created = result.action == "create"
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
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
    )
    @action(detail=True, methods=["post"], url_path="move")
    def move(self, request: Request, user_id: str, pk: str) -> Response:
        task_id = _path_id(pk)
        move = validate_move(request.data)
        if task_id in (move.get("before"), move.get("after")):
            raise ValidationError({key: ["Name a task other than the one moved."] for key in move})
        versions = if_match_versions(request)
        try:
            task = queries.task_move(
                user_id=self.owner_id, task_id=task_id, versions=versions, **move
            )
        except queries.MoveAnchorMissing:
            raise TasksNotFound(list(move)) from None
        return self._found(task, task_id=task_id, versions=versions)

    def _found(
        self, task: queries.TaskRow | None, *, task_id: int, versions: frozenset[int] | None
    ) -> Response:
        """A written task with its ETag; None is refused as `_refuse` says."""
        if task is None:
            self._refuse(task_id, versions=versions)
        return Response(task_json(task), headers={"ETag": etag(task["version"])})

    def _refuse(self, task_id: int, *, versions: frozenset[int] | None) -> NoReturn:
        """404 for no such task; 412 with the current ETag when a write conditional on
        `versions` found the task at another (one more read, on that path alone)."""
        current = (
            queries.task_get(user_id=self.owner_id, task_id=task_id)
            if versions is not None
            else None
        )
        if current is None:
            raise NotFound()
        raise PreconditionFailed(etag(current["version"]))


class TrashViewSet(OwnerViewSet):
    """The caller's trash: deleted tasks, restorable until TRASH_RETENTION_DAYS have
    passed, when they are deleted for good."""

    serializer_class = TrashedTaskSerializer

    @extend_schema(
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
    def list(self, request: Request, user_id: str) -> Response:
        query = parse_trash_query(request.query_params.dict())
        page = paginate(user_id=self.owner_id, query=query)
        return Response(
            [trashed_task_json(task) for task in page.items], headers=page.headers(request)
        )

    @extend_schema(
        summary="Empty the trash",
        operation_id="trash_empty",
        parameters=[USER_ID_PARAMETER],
        request=None,
        responses={204: OpenApiResponse(description="Every task in it deleted for good.")},
    )
    def empty(self, request: Request, user_id: str) -> Response:
        queries.trash_empty(user_id=self.owner_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Delete a task in the trash for good",
        operation_id="trash_destroy",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted for good; no body.")},
    )
    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        if not queries.task_purge(user_id=self.owner_id, task_id=_path_id(pk)):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Restore a task from the trash",
        operation_id="trash_restore",
        description="Back in the list with its id; its version steps.",
        parameters=[USER_ID_PARAMETER, TASK_ID_PARAMETER],
        request=None,
        responses={200: TaskSerializer},
        examples=[TASK_RESPONSE_EXAMPLE],
    )
    def restore(self, request: Request, user_id: str, pk: str) -> Response:
        task = queries.task_restore(user_id=self.owner_id, task_id=_path_id(pk))
        if task is None:
            raise NotFound()
        return Response(task_json(task), headers={"ETag": etag(task["version"])})


class ChangesViewSet(OwnerViewSet):
    """What changed in the caller's tasks since a token of this feed; see tasks.changes."""

    serializer_class = ChangesSerializer

    @extend_schema(
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
    # Not `list`: the answer is one object, not an array of them.
    def poll(self, request: Request, user_id: str) -> Response:
        query = parse_changes_query(request.query_params.dict())
        changes = changes_since(
            user_id=self.owner_id, since=query.get("since"), limit=query["limit"]
        )
        return Response(
            {
                "upserted": [task_json(task) for task in changes.upserted],
                "deleted": changes.deleted,
                "next": changes.next_token,
                "more": changes.more,
            }
        )


class NotificationViewSet(OwnerViewSet):
    """The caller's reminders that fired."""

    serializer_class = NotificationSerializer

    @extend_schema(
        summary="List notifications",
        operation_id="notifications_list",
        description="Reminders that fired, newest first, keyset-paged like the task list.",
        parameters=[USER_ID_PARAMETER, PageQuery],
        responses={200: NotificationSerializer(many=True)},
    )
    def list(self, request: Request, user_id: str) -> Response:
        query = parse_page_query(request.query_params.dict())
        page = paginate_notifications(user_id=self.owner_id, query=query)
        return Response(
            [notification_json(item) for item in page.items], headers=page.headers(request)
        )

    @extend_schema(
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
    def read(self, request: Request, user_id: str, pk: str) -> Response:
        notification = Notification.objects.filter(id=_path_id(pk), user_id=self.owner_id).first()
        if notification is None:
            raise NotFound()
        if not notification.read:
            notification.read = True
            notification.save(update_fields=["read"])
        return Response(notification_json(notification))
