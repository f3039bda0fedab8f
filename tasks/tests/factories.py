from datetime import datetime
from typing import Any

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from tasks import queries
from tasks.models import Priority, Task


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    """A task of `user_id` (default "user-a"), written as the API writes one; the owner
    is mirrored if missing. `now=` sets its creation time."""

    class Meta:
        model = Task

    user_id = "user-a"
    title = factory.Sequence(lambda n: f"Task {n}")
    description = ""
    priority = Priority.MEDIUM
    tags = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class: type[Task], *args: Any, **kwargs: Any) -> Task:
        user_id = kwargs.pop("user_id")
        now: datetime = kwargs.pop("now", None) or timezone.now()
        UserFactory.create(id=user_id)
        (task,) = queries.tasks_load([(user_id, kwargs, now)])
        return task
