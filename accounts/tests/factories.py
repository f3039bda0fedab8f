import factory

from accounts.models import BetterAuthUser


class UserFactory(factory.django.DjangoModelFactory[BetterAuthUser]):
    class Meta:
        model = BetterAuthUser
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda user: f"{user.id}@example.com")
    name = factory.LazyAttribute(lambda user: user.id.title())
