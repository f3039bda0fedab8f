"""Fixtures of the live stream's tests: a stream's frames as Django's test client gets
them (the one-shot catch-up of live.streams.EventStreamResponse), and an API client
whose user is mirrored already, for counting queries."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from testing.sse import SseEvent

ReadFrames = Callable[[Any], list[SseEvent]]


def parse_frames(body: bytes) -> list[SseEvent]:
    """`text/event-stream` as the HTML standard reads it: blocks of `field: value`
    lines ended by a blank line; `data` is JSON here."""
    frames = []
    for block in body.decode().split("\n\n"):
        if not block:
            continue
        fields: dict[str, str] = {}
        comments = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        frames.append(
            SseEvent(
                fields.get("event"),
                fields.get("id"),
                json.loads(fields["data"]) if "data" in fields else None,
                comments,
                int(fields["retry"]) if "retry" in fields else None,
            )
        )
    return frames


@pytest.fixture
def read_frames() -> ReadFrames:
    """The frames of an opened stream, read to its end (which frees its slot)."""

    def read(response: Any) -> list[SseEvent]:
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/event-stream"
        return parse_frames(b"".join(response.streaming_content))

    return read


@pytest.fixture
def mirrored_api(api: APIClient) -> APIClient:
    """`api`, whose first call (which writes the user mirror) is made already."""
    assert api.get("/api/me/tasks/0").status_code == 404
    return api
