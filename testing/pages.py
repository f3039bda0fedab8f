"""Walking a keyset-paged list through its `Link: rel="next"` headers."""

from typing import Any

from rest_framework.test import APIClient


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [task["id"] for task in response.json()]


def next_url(response: Any) -> str:
    """The `Link: rel=next` URL; "" on the last page."""
    link: str = response.headers.get("Link", "")
    if link:
        assert link.endswith('>; rel="next"')
    return link[1 : link.find(">")]


def walk(api: APIClient, url: str) -> list[int]:
    """Every id of every page, following `Link: rel=next`."""
    seen: list[int] = []
    while url:
        response = api.get(url)
        seen += ids(response)
        url = next_url(response)
    return seen
