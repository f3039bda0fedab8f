"""Time gunicorn's request-head parsing: its pure-Python parser against gunicorn_h1c.

    .venv/bin/python bench/parse_head.py [--rounds 3] [--count 20000]

Parses, in a loop, the head nginx forwards for `GET /api/me/tasks/{id}` with a
bearer token (gunicorn's own RequestParser, from bytes in memory: no socket), once
with `http_parser = "python"` and once with `"fast"`, and prints the CPU time per
head of each, side by side, so that drift hits both alike.
"""

import argparse
import time

from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

HEAD = (
    b"GET /api/me/tasks/10507 HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8001\r\n"
    b"X-Real-IP: 127.0.0.1\r\n"
    b"Authorization: Bearer " + b"x" * 180 + b"\r\n"
    b"User-Agent: wrk\r\n"
    b"Accept: */*\r\n\r\n"
)


class _Socket:
    """What RequestParser reads from: the head, once."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def recv(self, size: int) -> bytes:
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def microseconds_per_head(parser: str, count: int) -> float:
    config = Config()
    config.set("http_parser", parser)
    started = time.process_time()
    for _ in range(count):
        next(RequestParser(config, _Socket(HEAD), ("127.0.0.1", 1)))
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    for _ in range(args.rounds):
        python = microseconds_per_head("python", args.count)
        fast = microseconds_per_head("fast", args.count)
        print(f"python {python:6.1f} µs   fast (gunicorn_h1c) {fast:6.1f} µs   {fast / python:.2f}")


if __name__ == "__main__":
    main()
