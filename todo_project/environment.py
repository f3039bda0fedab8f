"""The settings' reader of the environment: django-environ's, noting every value it
can't take instead of failing on the first.

A bad value reads as its default and is noted in `problems`; the settings hand the
notes to the system checks (todo_project/checks.py), so a start with three bad
settings names all three in one message, without a traceback.
"""

import re
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

# What a boolean setting may say. django-environ reads any other word as false, so a
# typo (`SECURE_HTTPS=ture`) would silently turn a protection off.
TRUE_WORDS = frozenset(word.lower() for word in environ.Env.BOOLEAN_TRUE_STRINGS)
FALSE_WORDS = frozenset({"false", "off", "no", "n", "0", ""})


_DELAY = re.compile(r"(\d+)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_delays(text: str) -> tuple[float, ...]:
    """`5s,5m,30m,2h` as seconds; raise ValueError for anything else (an empty one too)."""
    delays = []
    for part in text.split(","):
        found = _DELAY.fullmatch(part.strip())
        if found is None:
            raise ValueError(f"{part.strip()!r} is not a delay like 5s, 5m, 2h or 1d")
        delays.append(int(found[1]) * _SECONDS[found[2]])
    return tuple(delays)


class Environment(environ.Env):
    """`environ.Env` whose readers return the default for a value they can't take,
    and note why in `problems`."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        """Note a setting that is present but unusable."""
        self.problems.append(message)

    def schedule(self, var: str, default: str) -> tuple[float, ...]:
        """A schedule of delays like `5s,5m,30m,2h,1d` (`ms` too), in seconds."""
        try:
            return parse_delays(self.str(var, default=default))
        except ValueError as error:
            self.problem(f"{var}: {error}.")
            return parse_delays(default)

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        if cast is bool and var in self.ENVIRON:
            word = str(self.ENVIRON[var]).strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                self.problem(f"{var} must be true or false, not {self.ENVIRON[var]!r}.")
                return default
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, ImproperlyConfigured) as error:
            self.problem(f"{var} is not a valid value ({error}).")
            return default
