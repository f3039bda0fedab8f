"""The type of the `make_token` fixture (conftest.py)."""

from collections.abc import Callable

TokenFactory = Callable[..., str]
