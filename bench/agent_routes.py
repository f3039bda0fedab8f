"""What the agents' routes cost beside the REST API's: MCP tool calls, and the chat route.

    .venv/bin/python bench/agent_routes.py                  # 5 rounds; 5 s a run, 10 s in (b)
    .venv/bin/python bench/agent_routes.py --rounds 9 --duration 8
    .venv/bin/python bench/agent_routes.py --parts mcp      # (a) alone; --parts chat: (b)

(This is bench/agent_routes.py, not bench/agents.py: the bench scripts are top-level
modules to mypy, and one named `agents` would clash with the agents app.)

Starts the service as bench/run.py does (a fresh PostgreSQL database, --users users of
--tasks-per-user tasks bulk-loaded by bench/seed.py, gunicorn `todo_project.asgi` with
gunicorn.conf.py, one worker on --server-cpus, PostgreSQL and wrk on --other-cpus) and
drives it with wrk (bench/agent_routes.lua, a random seeded user per request, a
warm-up before each measurement). The machine is shared and drifts, so every figure
is paired: the scenarios it compares are measured alternately, round after round (the
order reversed every other round), a figure is computed within each round, and the
result is the median of the per-round figures, each of which is printed too. Any
non-2xx answer, socket error or bad body makes the run invalid: exit status 3.

(a) MCP against REST (`mcp`), 16 connections, throughput: the server's one core is
the bottleneck, so REST req/s / MCP req/s is what an MCP call costs as a multiple of
the REST request.

    list     GET /api/me/tasks?limit=50       vs  POST /mcp tools/call list_tasks {"limit": 50}
    create   POST /api/me/tasks BODY          vs  POST /mcp tools/call add_task BODY

A tool call is stateless JSON-RPC (the server runs stateless: no initialize) and counts
as bad unless its body says `"isError":false`.

(b) The chat route's own overhead per tool call (`chat`), one connection, latency (so
no queueing: the mean latency is the service time). The model is testing/chat_model.py's
OpenAI-compatible server, run in this process on 127.0.0.1 (its thread pinned to
--other-cpus) and named to the service by CHAT_API_BASE_URL/CHAT_MODEL; it answers at
once and by what it is sent, not from a script, so requests may come in any order:
a user's message "Add N tasks" gets N add_task calls (with BODY) in one reply, and a
request whose last message is a tool result gets the text "Done.". Measured, in each
round: POST /api/me/chat with N = 0, 1 and 5 (a new conversation each: the same
history every time), `model` (the model alone: its first request of a chat replayed
to it by wrk, its own time per call as a client sees it), and the tool's work by
itself as `rest-create` (POST /api/me/tasks BODY) and `mcp-create` (tools/call
add_task BODY). From each round's mean latencies (ms):

    chat-1 - 2 x model - rest-create   the route's overhead for a message with one
                                       tool call: all but the model's two answers and
                                       the task's creation, the message's fixed costs
                                       included (they are the next line but one)
    chat-1 - chat-0 - model - rest-create   what one round of tool calling (a model
                                       answer asking for one call, the call, its result
                                       sent back) adds beyond the model and the tool
    (chat-5 - chat-1) / 4              what each further tool call of a batch adds, its
                                       work included: an upper bound of its overhead
    (chat-5 - chat-1) / 4 - rest-create   the same less the tool's work
    chat-0 - model                     the route's own cost of a message, no tool called

`rest-create` stands for the tool's own work although a REST create also pays its own
HTTP request, authentication and middleware; so the figures that subtract it are
slightly low, and (chat-5 - chat-1) / 4, which subtracts nothing, bounds the
per-call overhead from above. Needs the chat endpoint (agents/chat.py) and
testing/chat_model.py; without them (b) is skipped.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from run import BODY, Service

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "agent_routes.lua"
# The newest protocol the SDK speaks, which its own Client uses by default (one request,
# no handshake, its version in every request); `--protocol 2025-06-18` measures the
# older transport, which clients of that version (the Inspector, Claude) use.
NEWEST_PROTOCOL = "2026-07-28"
# (a): a name, then the REST scenario and the MCP scenario.
PAIRS = [("list", "rest-list", "mcp-list"), ("create", "rest-create", "mcp-create")]
# (b): the scenarios measured in each round, at one connection.
CHAT_SCENARIOS = ["chat-0", "chat-1", "chat-5", "model", "rest-create", "mcp-create"]
CHAT_CALLS = {"chat-0": 0, "chat-1": 1, "chat-5": 5}
DONE = "Done."
# The answer of a message whose tool calls all succeeded; a refusal shows as an error.
CHAT_OK = f'"response":"{DONE}"'
# One measurement per scenario in a round, by name.
Round = dict[str, dict[str, Any]]


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=16, help="for (a)")
    parser.add_argument(
        "--chat-duration", type=int, default=10, help="measured seconds per run of (b)"
    )
    parser.add_argument("--parts", default="mcp,chat", help="mcp: (a), chat: (b)")
    parser.add_argument("--protocol", default=NEWEST_PROTOCOL, help="the MCP clients' version")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--tasks-per-user", type=int, default=1000)
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--other-cpus", default="1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_agents")
    return parser.parse_args()


def tool_call(name: str, arguments: dict[str, Any], protocol: str) -> dict[str, Any]:
    """A tools/call scenario's headers and body, as a client of `protocol` sends them."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": protocol,
    }
    call: dict[str, Any] = {"name": name, "arguments": arguments}
    if protocol >= NEWEST_PROTOCOL:  # the version rides in every request, with the method
        headers |= {"Mcp-Method": "tools/call", "Mcp-Name": name}
        call["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": protocol,
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}
    return {"headers": headers, "body": json.dumps(body)}


def scenarios(model_request: bytes, protocol: str) -> dict[str, dict[str, Any]]:
    """Each scenario's request (the user's token is added to each) and the text its
    answer must hold, if any; `model_request` is the body `model` replays."""
    json_body = {"Content-Type": "application/json"}
    tool_ok = '"isError":false'
    found: dict[str, dict[str, Any]] = {
        "rest-list": {"method": "GET", "path": "/api/me/tasks?limit=50"},
        "mcp-list": {
            "method": "POST",
            "path": "/mcp",
            **tool_call("list_tasks", {"limit": 50}, protocol),
            "expect": tool_ok,
        },
        "rest-create": {
            "method": "POST",
            "path": "/api/me/tasks",
            "headers": json_body,
            "body": json.dumps(BODY),
        },
        "mcp-create": {
            "method": "POST",
            "path": "/mcp",
            **tool_call("add_task", BODY, protocol),
            "expect": tool_ok,
        },
        "model": {
            "method": "POST",
            "path": "/v1/chat/completions",
            "headers": json_body,
            "body": model_request.decode(),
            "expect": '"tool_calls"',
        },
    }
    for name, calls in CHAT_CALLS.items():
        found[name] = {
            "method": "POST",
            "path": "/api/me/chat",
            "headers": json_body,
            "body": json.dumps({"message": f"Add {calls} tasks"}),
            "expect": CHAT_OK,
        }
    return found


def lua(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{json.dumps(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    return json.dumps(value)


class Bench:
    """The running service, the wrk data file, and the model's URL (if any)."""

    def __init__(self, service: Service, data: Path, model_url: str = "") -> None:
        self.service = service
        self.args = service.args
        self.data = data
        self.model_url = model_url

    def write_data(self, tokens: list[str], model_request: bytes = b"") -> None:
        found = scenarios(model_request, self.args.protocol)
        data = {"users": [{"token": t} for t in tokens], "scenarios": found}
        self.data.write_text(f"return {lua(data)}\n")

    def wrk(self, scenario: str, seconds: int, connections: int) -> dict[str, Any]:
        out = self.data.with_suffix(f".{scenario}.json")
        env = {
            **os.environ,
            "BENCH_DATA": str(self.data),
            "BENCH_SCENARIO": scenario,
            "BENCH_OUT": str(out),
        }
        base = self.model_url.removesuffix("/v1") if scenario == "model" else self.service.base
        command = ["taskset", "-c", self.args.other_cpus, "wrk", "-t1", f"-c{connections}"]
        command += [f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT), base]
        subprocess.run(command, env=env, check=True, capture_output=True)
        result: dict[str, Any] = json.loads(out.read_text())
        ok = sum(n for status, n in result["statuses"].items() if status.startswith("2"))
        result["scenario"] = scenario
        result["req_s"] = result["requests"] / (result["duration_us"] / 1e6)
        result["mean_ms"] = result["mean_us"] / 1000
        result["non_2xx"] = result["requests"] - ok
        result["invalid"] = bool(
            result["non_2xx"] or result["socket_errors"] or result["bad_bodies"] or not ok
        )
        return result

    def measure(self, scenario: str, connections: int, seconds: int) -> dict[str, Any]:
        if self.args.warmup:
            self.wrk(scenario, self.args.warmup, connections)
        return self.wrk(scenario, seconds, connections)

    def rounds(
        self, names: list[str], connections: int, seconds: int, show: Callable[[Round], str]
    ) -> list[Round]:
        """`names` measured in turn, `seconds` each, for --rounds rounds, the order
        reversed every other round; `show(round)` is printed after each."""
        found = []
        for index in range(self.args.rounds):
            order = names if index % 2 == 0 else names[::-1]
            measured = {name: self.measure(name, connections, seconds) for name in order}
            print(f"  round {index + 1}: {show(measured)}", flush=True)
            found.append(measured)
        return found


def mcp_part(bench: Bench) -> bool:
    """(a): each REST/MCP pair in rounds, then its table; False if any run was invalid."""
    results = {}
    for name, rest, mcp in PAIRS:
        print(f"{name}: {rest} vs {mcp}, {bench.args.connections} connections", flush=True)

        def show(measured: Round, rest: str = rest, mcp: str = mcp) -> str:
            a, b = measured[rest], measured[mcp]
            ratio = a["req_s"] / b["req_s"]
            return f"{rest} {a['req_s']:.0f} req/s, {mcp} {b['req_s']:.0f} req/s, ratio {ratio:.2f}"

        args = bench.args
        rounds = bench.rounds([rest, mcp], args.connections, args.duration, show)
        results[name] = (rest, mcp, rounds)
    print()
    print("(a) MCP tool call vs the REST request: cost ratio = REST req/s / MCP req/s")
    print(
        f"{'pair':<8} {'REST req/s':>10} {'MCP req/s':>10} {'REST p50':>9} {'MCP p50':>8}"
        f" {'median ratio':>13}  per-round ratios"
    )
    valid = True
    for name, (rest, mcp, rounds) in results.items():
        ratios = [measured[rest]["req_s"] / measured[mcp]["req_s"] for measured in rounds]
        invalid = any(m["invalid"] for measured in rounds for m in measured.values())
        valid = valid and not invalid

        def med(scenario: str, key: str, rounds: list[Round] = rounds) -> float:
            return statistics.median(measured[scenario][key] for measured in rounds)

        print(
            f"{name:<8} {med(rest, 'req_s'):>10.0f} {med(mcp, 'req_s'):>10.0f}"
            f" {med(rest, 'p50_us') / 1000:>7.1f}ms {med(mcp, 'p50_us') / 1000:>6.1f}ms"
            f" {statistics.median(ratios):>13.2f}  {' '.join(f'{r:.2f}' for r in ratios)}"
            + ("  INVALID" if invalid else "")
        )
    return valid


# (b)'s figures from one round's mean latencies (ms): a label and how to compute it.
CHAT_FIGURES: list[tuple[str, Callable[[dict[str, float]], float]]] = [
    ("chat-1 - 2 x model - rest-create", lambda t: t["chat-1"] - 2 * t["model"] - t["rest-create"]),
    (
        "chat-1 - chat-0 - model - rest-create",
        lambda t: t["chat-1"] - t["chat-0"] - t["model"] - t["rest-create"],
    ),
    ("(chat-5 - chat-1) / 4", lambda t: (t["chat-5"] - t["chat-1"]) / 4),
    (
        "(chat-5 - chat-1) / 4 - rest-create",
        lambda t: (t["chat-5"] - t["chat-1"]) / 4 - t["rest-create"],
    ),
    ("chat-0 - model", lambda t: t["chat-0"] - t["model"]),
]


def chat_part(bench: Bench) -> bool:
    """(b): the chat scenarios in rounds at one connection, then the table of mean
    latencies and of the figures derived from them; False if any run was invalid."""
    print(f"chat: {', '.join(CHAT_SCENARIOS)}, 1 connection, mean latency", flush=True)

    def show(measured: Round) -> str:
        return ", ".join(f"{name} {measured[name]['mean_ms']:.2f}" for name in CHAT_SCENARIOS)

    rounds = bench.rounds(CHAT_SCENARIOS, 1, bench.args.chat_duration, show)
    print()
    print("(b) the chat route, 1 connection: mean latency per request, ms")
    print(f"{'scenario':<12} {'median ms':>10}  per round")
    valid = True
    for name in CHAT_SCENARIOS:
        values = [measured[name]["mean_ms"] for measured in rounds]
        invalid = any(measured[name]["invalid"] for measured in rounds)
        valid = valid and not invalid
        print(
            f"{name:<12} {statistics.median(values):>10.2f}  "
            + " ".join(f"{v:.2f}" for v in values)
            + ("  INVALID" if invalid else "")
        )
    print()
    print("(b) the chat route's own overhead, ms (median of the per-round values)")
    for label, figure in CHAT_FIGURES:
        values = [
            figure({name: measured[name]["mean_ms"] for name in CHAT_SCENARIOS})
            for measured in rounds
        ]
        print(
            f"{label:<38} {statistics.median(values):>7.2f}  "
            + " ".join(f"{v:.2f}" for v in values)
        )
    return valid


def chat_available() -> bool:
    return (ROOT / "agents" / "chat.py").exists() and (ROOT / "testing" / "chat_model.py").exists()


@contextmanager
def chat_model(cpus: str) -> Iterator[tuple[str, list[bytes]]]:
    """testing/chat_model.py's server in this process, on `cpus`, answering by what it
    is sent (see the docstring); its URL, and the first request it got whose last
    message was the user's (filled in once one came)."""
    sys.path.insert(0, str(ROOT))
    from testing import chat_model as fake
    from testing.chat_model import ChatModel, Reply, completion, running_chat_model

    fake.ThreadingHTTPServer = _QuietServer  # type: ignore[misc]

    n_calls = {f"Add {n} tasks": ChatModel("").call(*[("add_task", BODY)] * n) for n in (1, 5)}
    calls = {text: model.script[0] for text, model in n_calls.items()}
    done = Reply(body=completion({"role": "assistant", "content": DONE}, "stop"))
    first: list[bytes] = []

    def answer(body: bytes) -> Reply:
        last = json.loads(body)["messages"][-1]
        if last["role"] != "user":
            return done
        if not first:
            first.append(body)
        return calls.get(last["content"], done)

    # Threads started from here on (the server's) inherit the affinity.
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(cpu) for cpu in cpus.split(",")})
    try:
        with running_chat_model() as model:
            model.answer = answer  # type: ignore[method-assign]
            os.sched_setaffinity(0, affinity)
            yield model.url, first
    finally:
        os.sched_setaffinity(0, affinity)


def main() -> int:
    args = options()
    parts = args.parts.split(",")
    if "chat" in parts and not chat_available():
        print("(b) skipped: no agents/chat.py or testing/chat_model.py yet", flush=True)
        parts.remove("chat")
    with tempfile.TemporaryDirectory(prefix="todo-bench-agents-") as tmp:
        service = Service(args, Path(tmp))
        users = [f"bench-agent-{i}-{os.urandom(6).hex()}" for i in range(args.users)]
        tokens = [service.token(user) for user in users]
        service.create_database()
        service.seed(dict.fromkeys(users, args.tasks_per_user))
        with chat_model(args.other_cpus) if "chat" in parts else _no_model() as (url, first):
            service.env.update(CHAT_API_BASE_URL=url, CHAT_MODEL="bench-model")
            bench = Bench(service, Path(tmp) / "agent_routes.lua", url)
            bench.write_data(tokens)
            service.start()
            try:
                valid = True
                if "mcp" in parts:
                    valid = mcp_part(bench) and valid
                if "chat" in parts:
                    bench.wrk("chat-1", 1, 1)  # the model's first request, for `model`
                    bench.write_data(tokens, first[0])
                    valid = chat_part(bench) and valid
            finally:
                service.stop()
    return 0 if valid else 3


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet for a client that hung up; the default prints a traceback each time."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def _no_model() -> Iterator[tuple[str, list[bytes]]]:
    yield "", []


if __name__ == "__main__":
    sys.exit(main())
