"""Webhooks delivered by real worker processes on PostgreSQL, to a receiver on
loopback: two workers never send one attempt twice, and a worker killed (SIGKILL) in
the middle of delivering loses nothing: what it had taken goes out when its lease
runs out."""

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.live import ROOT
from testing.postgres import needs_postgres, scratch_postgres
from testing.receiver import Receiver, running_receiver
from testing.worker import start_worker, stop, wait_for, worker_env

pytestmark = needs_postgres

SEED = """
from django.core.management import call_command
from django.utils import timezone
from accounts.models import BetterAuthUser
from delivery.models import Webhook
from tasks import queries
call_command("migrate", verbosity=0)
BetterAuthUser.objects.create(id="hooked")
Webhook.objects.create(
    user_id="hooked", url="{url}", events=["task.created"],
    secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
)
now = timezone.now()
queries.tasks_load(("hooked", {{"title": f"T{{n}}"}}, now) for n in range({count}))
"""


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def seed(env: dict[str, str], receiver: Receiver, count: int) -> None:
    """Migrate, and make `count` tasks of a user whose webhook is the receiver."""
    script = SEED.format(url=receiver.url + "/hook", count=count)
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True
    )


def ids(receiver: Receiver) -> Counter[str]:
    return Counter(request.headers["webhook-id"] for request in receiver.to("/hook"))


def delivery_env(database: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    return worker_env(database, tmp_path / "record.txt", PUSH_ALLOW_LOOPBACK="true", **settings)


def test_two_workers_send_no_attempt_twice(
    database: str, receiver: Receiver, tmp_path: Path
) -> None:
    env = delivery_env(database, tmp_path)
    count = 400
    seed(env, receiver, count)

    workers = [start_worker(env), start_worker(env)]
    try:
        wait_for(lambda: len(ids(receiver)) >= count, 60, "every webhook delivered")
    finally:
        for process in workers:
            stop(process)

    sent = ids(receiver)
    assert len(sent) == count
    assert set(sent.values()) == {1}


def test_a_worker_killed_mid_delivery_loses_nothing(
    database: str, receiver: Receiver, tmp_path: Path
) -> None:
    env = delivery_env(database, tmp_path, DELIVERY_TIMEOUT_SECONDS="2", DELIVERY_LEASE_SECONDS="3")
    count = 300
    seed(env, receiver, count)
    receiver.answer("/hook", delay=0.05)

    first = start_worker(env)
    try:
        wait_for(lambda: len(ids(receiver)) > 20, 60, "the first webhooks delivered")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    at_kill = len(ids(receiver))

    second = start_worker(env)
    try:
        wait_for(lambda: len(ids(receiver)) >= count, 90, "every webhook delivered")
    finally:
        stop(second)

    assert 0 < at_kill < count  # killed in the middle of delivering them
    sent = ids(receiver)
    assert len(sent) == count
    # At least once: only what the killed worker had in flight may have gone twice.
    assert sum(sent.values()) - count <= 8
