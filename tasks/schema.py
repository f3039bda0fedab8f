"""What the OpenAPI document says of task text that drf-spectacular can't infer.

The contract lets text hold any Unicode but U+0000, and a trimmed field must keep a
character after trimming. Trimming is `str.strip()`, whose white space (Python's
`str.isspace()`) is written out here: regex `\\s` differs between ECMA, Rust and Python.
"""

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension

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


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "tasks.serializers.StrictCharField"

    def map_serializer_field(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            field = self.target
            schema |= text_constraints(trimmed=field.trim_whitespace, allow_blank=field.allow_blank)
        return schema


class MoveSerializerSchema(OpenApiSerializerExtension):
    """A move body names exactly one of `before`, `after` and `to`, which a
    serializer's fields can't say."""

    target_class = "tasks.serializers.MoveSerializer"

    def map_serializer(self, auto_schema: "AutoSchema", direction: "Direction") -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        keys = list(schema["properties"])
        schema["oneOf"] = [
            {
                "required": [key],
                "not": {"anyOf": [{"required": [other]} for other in keys if other != key]},
            }
            for key in keys
        ]
        return schema
