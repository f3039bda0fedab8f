"""A model for the chat endpoint's tests: an OpenAI-compatible Chat Completions server
on loopback that answers from a script and records every request it got.

A test scripts the replies in order (`say`, `call`, `fail`, `hang`, `redirect`,
`garble`), points CHAT_API_BASE_URL at `url`, and asserts on `requests` (what the
model saw: the tools offered, the history, the tool results). A request beyond the
script is answered 500, so a test that under-scripts fails loudly rather than hanging
(unless the model has a `fallback` text to say).
"""

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testing.live import serving

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: an HTTP status and body, after `delay` seconds (a hang
    waits until the server stops or the delay ends, whichever is first)."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    location: str | None = None


def completion(message: dict[str, Any], finish_reason: str) -> bytes:
    """A Chat Completions answer holding one choice, `message`."""
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_765_000_000,
            "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        }
    ).encode()


@dataclass
class ChatModel:
    """The running model: its `url` (a CHAT_API_BASE_URL), the `script` still to
    answer, and the `requests` (their JSON bodies) it got."""

    url: str
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Said when the script is out, if set: a model that always answers (the fuzz run's).
    fallback: str | None = None
    _call_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def say(self, text: str) -> "ChatModel":
        """Answer with text."""
        message = {"role": "assistant", "content": text}
        self.script.append(Reply(body=completion(message, "stop")))
        return self

    def call(self, *calls: tuple[str, dict[str, Any] | str]) -> "ChatModel":
        """Ask for tool calls, each (name, arguments); arguments as text are sent as
        they are (to send what is not JSON)."""
        tool_calls = [
            {
                "id": f"call_{next(self._call_ids)}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
            for name, arguments in calls
        ]
        message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
        self.script.append(Reply(body=completion(message, "tool_calls")))
        return self

    def fail(self, status: int = 500) -> "ChatModel":
        """Answer an HTTP error, as a provider's outage would."""
        body = json.dumps({"error": {"message": "The model is down.", "type": "server_error"}})
        self.script.append(Reply(status=status, body=body.encode()))
        return self

    def hang(self, seconds: float = 30.0) -> "ChatModel":
        """Answer nothing for `seconds` (or until the server stops)."""
        late = completion({"role": "assistant", "content": "Too late."}, "stop")
        self.script.append(Reply(body=late, delay=seconds))
        return self

    def redirect(self, location: str) -> "ChatModel":
        """Answer 307 Temporary Redirect to `location`."""
        self.script.append(Reply(status=307, location=location))
        return self

    def garble(self, body: bytes = b"<html>not json</html>") -> "ChatModel":
        """Answer 200 with a body that is no Chat Completions answer."""
        self.script.append(Reply(body=body))
        return self

    def answer(self, body: bytes) -> Reply:
        """Record a request's body and give the next scripted reply."""
        with self.lock:
            self.requests.append(json.loads(body))
            if self.script:
                return self.script.pop(0)
        if self.fallback is not None:
            return Reply(body=completion({"role": "assistant", "content": self.fallback}, "stop"))
        return Reply(status=500, body=b'{"error": {"message": "No reply is scripted."}}')

    @property
    def last_messages(self) -> list[dict[str, Any]]:
        """The messages of the last request: what the model saw last."""
        messages: list[dict[str, Any]] = self.requests[-1]["messages"]
        return messages


@contextmanager
def running_chat_model(host: str = "127.0.0.1") -> Iterator[ChatModel]:
    """Serve a ChatModel on `host` (a loopback address), on a free port, in a thread."""
    server = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    model = ChatModel(f"http://{host}:{server.server_port}/v1")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The head and the body go out in two writes: with Nagle's algorithm on, the
        # body would wait for the client's delayed ACK (40 ms) on every answer.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != COMPLETIONS_PATH:
                reply = Reply(status=404, body=b'{"error": {"message": "No such path."}}')
            else:
                reply = model.answer(body)
            if reply.delay and model.stopping.wait(reply.delay):
                return  # stopped while hanging: the client has long given up
            self.send_response(reply.status)
            if reply.location:
                self.send_header("Location", reply.location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    with serving(server):
        try:
            yield model
        finally:
            model.stopping.set()  # a hanging answer ends, so the server can stop
