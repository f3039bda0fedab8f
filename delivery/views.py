"""`/api/{user_id}/webhooks`, `/api/{user_id}/activity`, `/api/{user_id}/push-subscriptions`
and `/api/push/public-key`: HTTP in, a call of
delivery.services (or delivery.selectors), HTTP out. Another user's webhook answers
404, like a missing one."""

from django.utils.encoding import escape_uri_path
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.ratelimit import RateLimitedViewMixin
from accounts.views import OwnerViewSet, path_id
from delivery import push, views_schema
from delivery.exceptions import PushNotConfigured
from delivery.selectors import activity_page, owned_webhook, push_subscriptions, webhooks_of
from delivery.serializers import (
    ActivitySerializer,
    NewPushSubscriptionSerializer,
    PushPublicKeySerializer,
    PushSubscriptionSerializer,
    WebhookSerializer,
    activity_json,
    parse_activity_query,
    validate_webhook,
    webhook_json,
)
from delivery.services import (
    ping,
    push_subscription_delete,
    push_subscription_save,
    webhook_create,
    webhook_delete,
    webhook_update,
)


class WebhookViewSet(OwnerViewSet):
    """The caller's webhooks. The secret is in the creation's answer alone."""

    serializer_class = WebhookSerializer

    @views_schema.WEBHOOKS_LIST
    def list(self, request: Request, user_id: str) -> Response:
        return Response([webhook_json(webhook) for webhook in webhooks_of(self.owner_id)])

    @views_schema.WEBHOOKS_CREATE
    def create(self, request: Request, user_id: str) -> Response:
        fields = validate_webhook(request.data, partial=False)
        webhook = webhook_create(user_id=self.owner_id, url=fields["url"], events=fields["events"])
        location = f"{escape_uri_path(request.path).rstrip('/')}/{webhook.id}"
        return Response(
            {**webhook_json(webhook), "secret": webhook.secret},
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )

    @views_schema.WEBHOOKS_RETRIEVE
    def retrieve(self, request: Request, user_id: str, pk: str) -> Response:
        webhook = owned_webhook(user_id=self.owner_id, webhook_id=path_id(pk))
        return Response(webhook_json(webhook))

    @views_schema.WEBHOOKS_PARTIAL_UPDATE
    def partial_update(self, request: Request, user_id: str, pk: str) -> Response:
        webhook_id = path_id(pk)
        fields = validate_webhook(request.data, partial=True)
        webhook = webhook_update(user_id=self.owner_id, webhook_id=webhook_id, fields=fields)
        if webhook is None:
            raise NotFound("No such webhook of yours.")
        return Response(webhook_json(webhook))

    @views_schema.WEBHOOKS_DESTROY
    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        if not webhook_delete(user_id=self.owner_id, webhook_id=path_id(pk)):
            raise NotFound("No such webhook of yours.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @views_schema.WEBHOOKS_TEST
    def test(self, request: Request, user_id: str, pk: str) -> Response:
        webhook = owned_webhook(user_id=self.owner_id, webhook_id=path_id(pk))
        delivery = ping(webhook)
        return Response(
            {"queued": True, "message_id": delivery.message_id}, status=status.HTTP_202_ACCEPTED
        )


class ActivityViewSet(OwnerViewSet):
    """What happened to the caller's tasks and lists, newest first."""

    serializer_class = ActivitySerializer

    @views_schema.ACTIVITY_LIST
    def list(self, request: Request, user_id: str) -> Response:
        page = activity_page(
            user_id=self.owner_id, query=parse_activity_query(request.query_params.dict())
        )
        return Response(
            [activity_json(event) for event in page.items], headers=page.headers(request)
        )


@views_schema.PUSH_PUBLIC_KEY
class PushPublicKeyView(RateLimitedViewMixin, viewsets.ViewSet):
    """`GET /api/push/public-key`: public, counted against RATE_LIMIT_ANON."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = PushPublicKeySerializer

    def retrieve(self, request: Request) -> Response:
        key = push.public_key()
        if key is None:
            raise PushNotConfigured()
        return Response({"public_key": key})


@views_schema.PUSH_SUBSCRIPTIONS
class PushSubscriptionViewSet(OwnerViewSet):
    """The user's browsers that get reminders by Web Push. Another user's subscription
    answers 404, like a missing one."""

    serializer_class = PushSubscriptionSerializer

    def list(self, request: Request, user_id: str) -> Response:
        subscriptions = push_subscriptions(self.owner_id)
        return Response(PushSubscriptionSerializer(subscriptions, many=True).data)

    def create(self, request: Request, user_id: str) -> Response:
        incoming = NewPushSubscriptionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = incoming.validated_data
        subscription, created = push_subscription_save(
            user_id=self.owner_id, endpoint=fields["endpoint"], **fields["keys"]
        )
        body = PushSubscriptionSerializer(subscription).data
        if not created:
            return Response(body)
        location = f"{escape_uri_path(request.path).rstrip('/')}/{subscription.id}"
        return Response(
            body,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )

    def destroy(self, request: Request, user_id: str, pk: str) -> Response:
        subscription_id = path_id(pk)
        if not push_subscription_delete(user_id=self.owner_id, subscription_id=subscription_id):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
