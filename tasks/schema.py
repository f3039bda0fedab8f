"""What the OpenAPI document says of the API's bodies that drf-spectacular can't infer.

An answer holds every field of its serializer, whether or not a request must send it:
drf-spectacular would mark only the required and the read-only ones, and generated
client types would make `completed` or `tags` optional. A field an answer may leave
out is named in its serializer's `optional_in_response`.

The contract lets text hold any Unicode but U+0000, and a trimmed field must keep a
character after trimming. Trimming is `str.strip()`, whose white space (Python's
`str.isspace()`) is written out here: regex `\\s` differs between ECMA, Rust and Python.
"""

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension

from tasks.bulk import FILTERS
from tasks.filters import TaskListQuery
from tasks.serializers import RULE_PATTERN, TaskSerializer

if TYPE_CHECKING:  # drf_spectacular.openapi imports DRF's views: no cycle at start-up
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction

# Unanchored, as JSON Schema patterns are: the text holds a character that isn't white space.
NOT_ONLY_WHITESPACE = (
    r"[^\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
NO_NUL = {"not": {"pattern": r"\u0000"}}


def text_constraints(*, trimmed: bool, allow_blank: bool) -> dict[str, Any]:
    """Schema keywords for what a text field accepts beyond its length.

    A blank-allowed field gets no `pattern`: drf-spectacular would then offer the
    empty string twice, in a `oneOf` that no longer accepts it.
    """
    if trimmed and not allow_blank:
        return {**NO_NUL, "pattern": NOT_ONLY_WHITESPACE}
    return NO_NUL


class DueDateFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "tasks.serializers.DueDateField"

    def map_serializer_field(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        forms: list[dict[str, Any]] = [
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
        ]
        if direction == "request":
            forms.append({"type": "string", "enum": [""], "description": "An empty input: null."})
        # anyOf: to a validator that ignores formats, every form is the same string.
        return {"anyOf": forms, "nullable": True}


class RuleFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "tasks.serializers.RuleField"

    def map_serializer_field(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = RULE_PATTERN
        return schema


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "tasks.serializers.StrictCharField"

    def map_serializer_field(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            field = self.target
            schema |= text_constraints(trimmed=field.trim_whitespace, allow_blank=field.allow_blank)
        return schema


def exactly_one_of(keys: list[str]) -> list[dict[str, Any]]:
    """A `oneOf` for an object that holds exactly one of `keys`."""
    return [
        {
            "required": [key],
            "not": {"anyOf": [{"required": [other]} for other in keys if other != key]},
        }
        for key in keys
    ]


class AnswerSchema(OpenApiSerializerExtension):
    """Every serializer's schema, the accounts' too: in a response, each of its fields
    is required but those in its `optional_in_response`."""

    target_class = "rest_framework.serializers.Serializer"
    match_subclasses = True
    priority = -1  # below any serializer's own extension, which builds on this one

    def map_serializer(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        if direction == "response":
            optional = getattr(self.target, "optional_in_response", ())
            schema["required"] = [name for name in schema["properties"] if name not in optional]
        return schema


class MoveSerializerSchema(AnswerSchema):
    """A move body names exactly one of `before`, `after` and `to`, which a
    serializer's fields can't say."""

    target_class = "tasks.serializers.MoveSerializer"
    match_subclasses = False
    priority = 0

    def map_serializer(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = super().map_serializer(auto_schema, direction)
        schema["oneOf"] = exactly_one_of(list(schema["properties"]))
        return schema


class ReminderSerializerSchema(AnswerSchema):
    """A reminder sent holds exactly one of `before_minutes` and `at`."""

    target_class = "tasks.serializers.ReminderSerializer"
    match_subclasses = False
    priority = 0

    def map_serializer(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = super().map_serializer(auto_schema, direction)
        if direction == "request":
            schema["oneOf"] = exactly_one_of(["before_minutes", "at"])
        return schema


class BulkRequestSerializerSchema(AnswerSchema):
    """A bulk body's keys follow its `action` (tasks.bulk): `create` takes `tasks`, each
    as a create takes it; the others exactly one of `ids` and `where` (the list's
    filters and no other key), and `update` its `fields` too: PATCH's, but `title` and
    `parent_id`, at
    least one it can write, and a date or local time only beside a `time_zone`."""

    target_class = "tasks.bulk.BulkRequestSerializer"
    match_subclasses = False
    priority = 0

    def map_serializer(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = super().map_serializer(auto_schema, direction)
        if direction != "request":
            return schema
        properties = schema["properties"]
        new_task = auto_schema.resolve_serializer(TaskSerializer, direction)
        properties["tasks"]["items"] = new_task.ref
        changes = auto_schema.resolve_serializer(TaskSerializer(partial=True), direction)
        writable = [
            name
            for name, field in TaskSerializer().fields.items()
            if not field.read_only and name not in ("title", "parent_id")
        ]
        offset_or_none = {
            "anyOf": [{"type": "string", "format": "date-time"}, {"enum": [None, ""]}]
        }
        properties["fields"] = {
            "allOf": [
                changes.ref,
                {"not": {"anyOf": [{"required": ["title"]}, {"required": ["parent_id"]}]}},
                {"anyOf": [{"required": [name]} for name in writable]},
                {
                    "anyOf": [
                        {"required": ["time_zone"]},
                        {"properties": {"due_date": offset_or_none}},
                    ]
                },
            ],
            "description": properties["fields"]["description"],
        }
        filters = auto_schema._map_serializer(TaskListQuery, direction)
        properties["where"] = {
            "type": "object",
            "properties": {
                name: field for name, field in filters["properties"].items() if name in FILTERS
            },
            "additionalProperties": False,
            "description": properties["where"]["description"],
        }
        by_ids_or_where = exactly_one_of(["ids", "where"])
        schema["oneOf"] = [
            {**_action("create"), "required": ["tasks"]},
            {**_action("complete", "reopen", "delete"), "oneOf": by_ids_or_where},
            {**_action("update"), "required": ["fields"], "oneOf": by_ids_or_where},
        ]
        return schema


def _action(*names: str) -> dict[str, Any]:
    # Under allOf: drf-spectacular's enum hook would make a bare `enum` of a property
    # a component, one shared by every branch.
    return {"properties": {"action": {"allOf": [{"enum": list(names)}]}}}
