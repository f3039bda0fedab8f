import factory

from tasks.models import Priority, Task


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    class Meta:
        model = Task

    user_id = "user-a"
    title = factory.Sequence(lambda n: f"Task {n}")
    description = ""
    priority = Priority.MEDIUM
    tags = factory.LazyFunction(list)
