"""Fixtures of the delivery tests."""

from collections.abc import Iterator

import pytest

from delivery.loop import DeliveryLoop


@pytest.fixture
def loop() -> Iterator[DeliveryLoop]:
    """A delivery loop of four threads, as the worker runs one; `loop.drain()` sends
    everything due."""
    running = DeliveryLoop(threads=4)
    yield running
    running.close()
