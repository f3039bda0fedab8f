"""The JSON renderer of every API response: orjson, several times faster than `json`."""

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer


def _fallback(value: Any) -> str:
    # DRF's lazy translations and the like: what `str` makes of them.
    return str(value)


class OrjsonRenderer(JSONRenderer):
    """Compact UTF-8 JSON; date-times as ISO 8601 in UTC with a `Z`."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_fallback, option=orjson.OPT_UTC_Z)
