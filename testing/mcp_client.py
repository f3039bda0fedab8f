"""The official MCP SDK's client, connected to this service's MCP server as a user."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client


@asynccontextmanager
async def mcp_session(url: str, token: str, *, timeout: float = 30) -> AsyncIterator[ClientSession]:
    """An initialized SDK session with the MCP server at `url` (`…/mcp`), every request
    carrying `Authorization: Bearer <token>`."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session
