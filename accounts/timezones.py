"""IANA time zone names, as the contract's `time_zone` fields take them."""

import functools
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from rest_framework import serializers

# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia).
MAX_LENGTH = 64
# Files of a zoneinfo directory that are not zones of the IANA database.
_NOT_ZONES = {"localtime", "posixrules", "Factory"}


@functools.cache
def time_zones() -> frozenset[str]:
    """Every IANA name: the system's zoneinfo and the tzdata package (requirements.txt),
    so that a machine without /usr/share/zoneinfo knows the same names."""
    return frozenset(available_timezones() - _NOT_ZONES)


def validate_time_zone(name: str) -> None:
    """The model fields' validator, for the admin's forms."""
    if name not in time_zones():
        raise ValidationError(TimeZoneField.default_error_messages["unknown"], code="unknown")


class TimeZoneField(serializers.ChoiceField):
    """An IANA time zone name (`Europe/Berlin`), exactly as the database spells it, or
    null. The schema lists every name, so that clients and fuzzers know them."""

    default_error_messages = {"unknown": "Not an IANA time zone name, e.g. Europe/Berlin."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=sorted(time_zones()), allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in time_zones():
            self.fail("unknown")
        return data
