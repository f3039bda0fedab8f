"""The one request body format the API accepts: a JSON object."""

import json
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Fixed texts: Python's own messages ("use sys.set_int_max_str_digits()", "'utf-8'
# codec can't decode byte 0xff") say how the service is built, not what to fix.
NOT_JSON = "The body is not valid JSON (line {line}, column {column})."
NOT_AN_OBJECT = "The request body must be a JSON object."
NOT_A_JSON_NUMBER = "The body is not valid JSON: NaN and Infinity are not JSON numbers."
TOO_DEEP = "The body is not valid JSON: it is nested too deeply."
TOO_MANY_DIGITS = "The body is not valid JSON: a number has more than 4300 digits."
NOT_UNICODE = "The body is not valid JSON: strings must be valid Unicode."


class _NotAJSONNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotAJSONNumber(name)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a byte offset."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1


class JSONObjectParser(JSONParser):
    """Strict JSON (RFC 8259: UTF-8, no NaN or Infinity), and only an object of valid
    Unicode: arrays and scalars, nesting deep enough to exhaust Python's recursion,
    and strings with lone surrogates (`"\\ud800"`, which no database can store) are
    400s with a fixed text instead of reaching a serializer or becoming 500s.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except UnicodeDecodeError as error:
            line, column = _position(raw, error.start)
            raise ParseError(NOT_JSON.format(line=line, column=column)) from None
        except json.JSONDecodeError as error:
            raise ParseError(NOT_JSON.format(line=error.lineno, column=error.colno)) from None
        except _NotAJSONNumber:
            raise ParseError(NOT_A_JSON_NUMBER) from None
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        except ValueError:  # the only other: an integer over Python's 4300 digits
            raise ParseError(TOO_MANY_DIGITS) from None
        if not isinstance(data, dict):
            raise ParseError(NOT_AN_OBJECT)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(NOT_UNICODE) from None
        return data
