"""`/api/{user_id}/tasks`, `/lists`, `/trash` and `/changes`: HTTP in, a call of
tasks.queries (or tasks.changes), HTTP out."""

from typing import Any, NoReturn

from django.utils.encoding import escape_uri_path
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import user_time_zone
from accounts.views import OwnerViewSet, path_id
from tasks import queries, views_schema
from tasks.bulk import bulk_apply
from tasks.changes import changes_json, changes_since
from tasks.exceptions import ListsNotFound, TasksNotFound
from tasks.filters import (
    parse_changes_query,
    parse_list_delete_query,
    parse_list_query,
    parse_page_query,
    parse_trash_query,
)
from tasks.idempotency import idempotent
from tasks.models import Notification
from tasks.pagination import paginate, paginate_notifications
from tasks.preconditions import answer_read, etag, if_match_versions, refuse_write
from tasks.serializers import (
    ChangesSerializer,
    ListSerializer,
    NotificationSerializer,
    TaskSerializer,
    TrashedTaskSerializer,
    completion_json,
    list_json,
    notification_json,
    task_json,
    trashed_task_json,
    validate_completion,
    validate_list,
    validate_move,
    validate_task,
)

NOT_A_SIBLING = "Name a task in the same list, under the same parent: positions order siblings."


@views_schema.TASKS
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
        task = queries.task_get(user_id=self.owner_id, task_id=path_id(pk))
        if task is None:
            raise NotFound()
        return answer_read(request, task["version"], lambda: task_json(task))

    def update(self, request: Request, user_id: str, pk: str) -> Response:
        return self._write(pk, request, partial=False)

    def partial_update(self, request: Request, user_id: str, pk: str) -> Response:
        return self._write(pk, request, partial=True)

    def _write(self, pk: str, request: Request, *, partial: bool) -> Response:
        task_id = path_id(pk)
        fields = validate_task(request.data, partial=partial)
        versions = if_match_versions(request)
        task = queries.task_update(
            user_id=self.owner_id, task_id=task_id, fields=fields, versions=versions
        )
        return self._found(task, task_id=task_id, versions=versions)

    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        task_id = path_id(pk)
        versions = if_match_versions(request)
        if queries.task_trash(user_id=self.owner_id, task_id=task_id, versions=versions) is None:
            self._refuse(task_id, versions=versions)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["patch"], url_path="complete")
    def complete(self, request: Request, user_id: str, pk: str) -> Response:
        task_id = path_id(pk)
        completed = validate_completion(request.data)
        versions = if_match_versions(request)
        task = queries.task_set_completed(
            user_id=self.owner_id, task_id=task_id, completed=completed, versions=versions
        )
        return self._found(task, task_id=task_id, versions=versions)

    @action(detail=True, methods=["get"], url_path="completions")
    def completions(self, request: Request, user_id: str, pk: str) -> Response:
        completions = queries.task_completions(user_id=self.owner_id, task_id=path_id(pk))
        if completions is None:
            raise NotFound()
        return Response([completion_json(completion) for completion in completions])

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

    @action(detail=True, methods=["post"], url_path="move")
    def move(self, request: Request, user_id: str, pk: str) -> Response:
        task_id = path_id(pk)
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
        except queries.MoveAnchorNotSibling:
            raise ValidationError({key: [NOT_A_SIBLING] for key in move}) from None
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
        refuse_write(current["version"] if current else None)


@views_schema.LISTS
class ListViewSet(OwnerViewSet):
    """The caller's lists of tasks. Another user's list answers 404, like a missing one."""

    lookup_value_regex = "[^/]+"
    serializer_class = ListSerializer

    def list(self, request: Request, user_id: str) -> Response:
        return Response([list_json(found) for found in queries.lists_all(user_id=self.owner_id)])

    def create(self, request: Request, user_id: str) -> Response:
        return idempotent(self, request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        created = queries.list_create(
            user_id=self.owner_id, fields=validate_list(request.data, partial=False)
        )
        location = f"{escape_uri_path(request.path).rstrip('/')}/{created.id}"
        return Response(
            list_json(created),
            status=status.HTTP_201_CREATED,
            headers={
                "Location": request.build_absolute_uri(location),
                "ETag": etag(created.version),
            },
        )

    def retrieve(self, request: Request, user_id: str, pk: str) -> Response:
        found = queries.list_get(user_id=self.owner_id, list_id=path_id(pk))
        if found is None:
            raise NotFound()
        return answer_read(request, found.version, lambda: list_json(found))

    def update(self, request: Request, user_id: str, pk: str) -> Response:
        return self._write(pk, request, partial=False)

    def partial_update(self, request: Request, user_id: str, pk: str) -> Response:
        return self._write(pk, request, partial=True)

    def _write(self, pk: str, request: Request, *, partial: bool) -> Response:
        list_id = path_id(pk)
        fields = validate_list(request.data, partial=partial)
        versions = if_match_versions(request)
        written = queries.list_update(
            user_id=self.owner_id, list_id=list_id, fields=fields, versions=versions
        )
        return self._found(written, list_id=list_id, versions=versions)

    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        list_id = path_id(pk)
        query = parse_list_delete_query(request.query_params.dict())
        versions = if_match_versions(request)
        deleted = queries.list_delete(
            user_id=self.owner_id,
            list_id=list_id,
            tasks=query.get("tasks", "keep"),
            to=query.get("to"),
            versions=versions,
        )
        if not deleted:
            self._refuse(list_id, versions=versions)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="move")
    def move(self, request: Request, user_id: str, pk: str) -> Response:
        list_id = path_id(pk)
        move = validate_move(request.data)
        if list_id in (move.get("before"), move.get("after")):
            raise ValidationError({key: ["Name a list other than the one moved."] for key in move})
        versions = if_match_versions(request)
        try:
            moved = queries.list_move(
                user_id=self.owner_id, list_id=list_id, versions=versions, **move
            )
        except queries.ListMoveAnchorMissing:
            raise ListsNotFound(list(move)) from None
        return self._found(moved, list_id=list_id, versions=versions)

    def _found(self, found: Any, *, list_id: int, versions: frozenset[int] | None) -> Response:
        if found is None:
            self._refuse(list_id, versions=versions)
        return Response(list_json(found), headers={"ETag": etag(found.version)})

    def _refuse(self, list_id: int, *, versions: frozenset[int] | None) -> NoReturn:
        """404 for no such list; 412 with the current ETag when a write conditional on
        `versions` found the list at another."""
        current = (
            queries.list_get(user_id=self.owner_id, list_id=list_id)
            if versions is not None
            else None
        )
        refuse_write(current.version if current else None)


class TrashViewSet(OwnerViewSet):
    """The caller's trash: deleted tasks, restorable until TRASH_RETENTION_DAYS have
    passed, when they are deleted for good."""

    serializer_class = TrashedTaskSerializer

    @views_schema.TRASH_LIST
    def list(self, request: Request, user_id: str) -> Response:
        query = parse_trash_query(request.query_params.dict())
        page = paginate(user_id=self.owner_id, query=query)
        return Response(
            [trashed_task_json(task) for task in page.items], headers=page.headers(request)
        )

    @views_schema.TRASH_EMPTY
    def empty(self, request: Request, user_id: str) -> Response:
        queries.trash_empty(user_id=self.owner_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @views_schema.TRASH_DESTROY
    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        if not queries.task_purge(user_id=self.owner_id, task_id=path_id(pk)):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @views_schema.TRASH_RESTORE
    def restore(self, request: Request, user_id: str, pk: str) -> Response:
        task = queries.task_restore(user_id=self.owner_id, task_id=path_id(pk))
        if task is None:
            raise NotFound()
        return Response(task_json(task), headers={"ETag": etag(task["version"])})


class ChangesViewSet(OwnerViewSet):
    """What changed in the caller's tasks since a token of this feed; see tasks.changes."""

    serializer_class = ChangesSerializer

    # Not `list`: the answer is one object, not an array of them.
    @views_schema.CHANGES_POLL
    def poll(self, request: Request, user_id: str) -> Response:
        query = parse_changes_query(request.query_params.dict())
        changes = changes_since(
            user_id=self.owner_id, since=query.get("since"), limit=query["limit"]
        )
        return Response(changes_json(changes))


class NotificationViewSet(OwnerViewSet):
    """The caller's reminders that fired."""

    serializer_class = NotificationSerializer

    @views_schema.NOTIFICATIONS_LIST
    def list(self, request: Request, user_id: str) -> Response:
        query = parse_page_query(request.query_params.dict())
        page = paginate_notifications(user_id=self.owner_id, query=query)
        return Response(
            [notification_json(item) for item in page.items], headers=page.headers(request)
        )

    @views_schema.NOTIFICATIONS_READ
    def read(self, request: Request, user_id: str, pk: str) -> Response:
        notification = Notification.objects.filter(id=path_id(pk), user_id=self.owner_id).first()
        if notification is None:
            raise NotFound()
        if not notification.read:
            notification.read = True
            notification.save(update_fields=["read"])
        return Response(notification_json(notification))
