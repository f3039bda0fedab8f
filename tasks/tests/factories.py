from typing import Any

import factory

from accounts.tests.factories import UserFactory
from tasks.models import Priority, Task


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    """A task of `user_id` (default "user-a"); the owner is mirrored if missing."""

    class Meta:
        model = Task

    user_id = "user-a"
    title = factory.Sequence(lambda n: f"Task {n}")
    description = ""
    priority = Priority.MEDIUM
    tags = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class: type[Task], *args: Any, **kwargs: Any) -> Task:
        UserFactory.create(id=kwargs["user_id"])
        return super()._create(model_class, *args, **kwargs)
