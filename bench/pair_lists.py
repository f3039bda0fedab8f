"""The shared harness's pair.py, with one more scenario: `list-in-list` (run by pair.sh).

    python bench/pair_lists.py --harness DIR [pair.py options...]

After side A (ours, `--a`) is seeded, each of its users gets LISTS_PER_USER lists (the
Inbox and the lists made here) and its tasks go to them in turn (bulk `update` of
`list_id`); side A's `list-in-list` is then the first page of one of those lists,
`GET /api/{u}/tasks?limit=50&list_id=<list>`. The peer has no lists: its
`list-in-list` is its plain `list` (the first page of all the user's tasks), so the
ratio says what one list's page costs us against what the peer's list costs it.
Every other scenario, the pairing, the rounds and the table are pair.py's own.
"""

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

LISTS_PER_USER = 10
SCENARIO = "list-in-list"
# Ids per bulk update (its limit is 200).
BULK_IDS = 200


def main() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--harness", required=True, type=Path, help="the copy of shared/bench")
    known, rest = parser.parse_known_args()
    sys.path.insert(0, str(known.harness))
    harness: Any = importlib.import_module("bench")
    pair: Any = importlib.import_module("pair")
    plain_target, plain_measure = harness.Target, harness.measure

    class TargetWithLists(plain_target):  # type: ignore[misc, valid-type]
        """A side as pair.py seeds it; side A also writes `<label>-lists.lua`, the
        same data whose `list` is the first page of one of each user's lists."""

        in_list: dict[str, int] | None = None

        def list_path(self, uid: str) -> str:
            path: str = super().list_path(uid)
            return f"{path}&list_id={self.in_list[uid]}" if self.in_list else path

        def write_lua_data(self, path: Path) -> None:
            super().write_lua_data(path)
            if self.base_url != self.args.a.rstrip("/"):
                return
            self.in_list = {u["id"]: spread_over_lists(harness, self, u) for u in self.users}
            # The moves left a version of each task behind: the after-seed command (the
            # operator's own, run as pair.py runs it) cleans up again.
            if self.args.a_after_seed:
                subprocess.run(self.args.a_after_seed, shell=True, check=True)  # noqa: S602
            super().write_lua_data(lists_data(path))
            self.in_list = None

    def measure(args: Any, url: str, scenario: str, data: Path, pids: list[int]) -> Any:
        if scenario != SCENARIO:
            return plain_measure(args, url, scenario, data, pids)
        with_lists = lists_data(data)
        result = plain_measure(args, url, "list", with_lists if with_lists.exists() else data, pids)
        result["scenario"] = SCENARIO
        return result

    harness.Target, harness.measure = TargetWithLists, measure
    at = harness.RUN_ORDER.index("list") + 1
    harness.RUN_ORDER[at:at] = [SCENARIO]
    harness.SCENARIOS.append(SCENARIO)
    sys.argv = [sys.argv[0], *rest]
    status: int = pair.main()
    return status


def lists_data(path: Path) -> Path:
    return path.with_name(f"{path.stem}-lists.lua")


def spread_over_lists(harness: Any, target: Any, user: dict[str, Any]) -> int:
    """Give `user` LISTS_PER_USER lists and put their tasks in them in turn; the id of
    the last list made."""
    client, token, base = harness.Client(target.base_url), user["token"], f"/api/{user['id']}"
    status, _, body = client.request("GET", f"{base}/lists", token)
    lists = [found["id"] for found in json.loads(body)] if status == 200 else []
    for n in range(1, LISTS_PER_USER):
        status, _, body = client.request("POST", f"{base}/lists", token, {"name": f"List {n}"})
        if status != 201:
            raise SystemExit(f"list-in-list: POST {base}/lists -> {status}: {body[:300]!r}")
        lists.append(json.loads(body)["id"])
    for index, list_id in enumerate(lists[1:], start=1):
        ids = user["tasks"][index :: len(lists)]
        for start in range(0, len(ids), BULK_IDS):
            update = {
                "action": "update",
                "ids": ids[start : start + BULK_IDS],
                "fields": {"list_id": list_id},
            }
            status, _, body = client.request("POST", f"{base}/tasks/bulk", token, update)
            if status != 200:
                raise SystemExit(f"list-in-list: bulk update -> {status}: {body[:300]!r}")
    return int(lists[-1])


if __name__ == "__main__":
    sys.exit(main())
