"""What a log line looks like to people (`LOG_FORMAT=plain`, as `make run` logs).

The message, then every field the JSON format carries (`reason`, `client`, `path`,
`status`, `user_id`, ...) as `key=value`, so a security event reads the same in
either format. Kept free of Django imports: the logging configuration loads it.
"""

import json
import logging
import logging.config
from typing import Any

# What every LogRecord holds by itself; any other attribute came as `extra`.
_RECORD_ATTRIBUTES = {
    *vars(logging.LogRecord("", 0, "", 0, "", (), None)),
    "message",
    "asctime",
    "request_id",
}


def _shown(value: Any) -> str:
    # Quoted (and escaped) when it could be mistaken for two fields or forge a line.
    text = str(value)
    if not text or not text.isprintable() or " " in text or '"' in text:
        return json.dumps(text, ensure_ascii=False)
    return text


class RequestWithoutQuery(logging.Filter):
    """Shows a record's `request` (django.request attaches the request to its error
    lines) as its method and path: the query string may carry a secret, such as a
    live stream's ticket (live.tickets), which no log line may hold."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            record.request = f"{getattr(request, 'method', '')} {request.path}"
        return True


class PlainFormatter(logging.Formatter):
    """`logging.Formatter`, with the record's extra fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={_shown(value)}"
            for name, value in vars(record).items()
            if name not in _RECORD_ATTRIBUTES
        ]
        return " ".join([line, *fields])


def configure(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: `dictConfig`, with records that skip what no line shows.

    No format names a thread or a source line, so finding them for every record
    (about 2% of a get's instructions) is turned off, as the logging HOWTO's
    "Optimization" section describes. The process id stays: gunicorn's own lines,
    in the same process, show it.
    """
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    logging.config.dictConfig(config)
