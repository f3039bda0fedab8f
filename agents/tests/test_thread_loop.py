"""The request thread's event loop for the MCP SDK (agents.mcp.ThreadLoop): calls the
SDK's handlers wait for run on the thread with the loop stopped, and a failed exchange
leaves nothing behind for the next."""

import asyncio
from typing import Any

import pytest

from agents import mcp


@pytest.fixture
def thread_loop() -> Any:
    made = mcp.ThreadLoop()
    yield made
    made.close()


def test_a_call_runs_with_no_loop_running_and_its_result_goes_back(thread_loop: Any) -> None:
    def outside_any_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return True  # as Django's ORM needs
        return False

    async def work() -> list[bool]:
        return [await thread_loop.run(outside_any_loop) for _ in range(2)]

    assert thread_loop.drive(work()) == [True, True]


def test_a_calls_error_reaches_the_handler_waiting_for_it(thread_loop: Any) -> None:
    async def work() -> str:
        try:
            await thread_loop.run(lambda: 1 / 0)
        except ZeroDivisionError:
            return "handled"
        return "not raised"

    assert thread_loop.drive(work()) == "handled"


def test_a_call_asked_for_as_the_work_ends_is_made_before_drive_returns(
    thread_loop: Any,
) -> None:
    made: list[str] = []

    async def work() -> None:
        # Another task asks for a call in the round where the work itself ends.
        asyncio.get_running_loop().create_task(thread_loop.run(lambda: made.append("call")))

    thread_loop.drive(work())

    assert made == ["call"]
    assert thread_loop.waiting == []


def test_a_call_whose_handler_was_cancelled_is_not_made(thread_loop: Any) -> None:
    made: list[str] = []

    async def work() -> None:
        waiter = asyncio.get_running_loop().create_task(
            thread_loop.run(lambda: made.append("call"))
        )
        await asyncio.sleep(0)  # the call is asked for...
        waiter.cancel()  # ...and its handler cancelled before the loop stops

    thread_loop.drive(work())

    assert made == []


def test_an_exchange_that_fails_leaves_the_thread_a_new_loop(monkeypatch: Any) -> None:
    first = mcp._thread_loop()

    async def broken(*args: Any) -> Any:
        raise RuntimeError("the SDK failed")

    monkeypatch.setattr(mcp, "_exchange", broken)
    with pytest.raises(RuntimeError):
        mcp.exchange("u1", {}, b"")

    assert first.loop.is_closed()
    assert mcp._thread_loop() is not first
