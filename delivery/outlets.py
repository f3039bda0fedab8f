"""Sending one Delivery to its outlet: a webhook (Standard Webhooks: signed with the
reference library) or the Dapr sidecar's pub/sub API. Each send runs on a delivery
thread with that thread's hardened session (delivery.http), under the total deadline,
and touches no database: it returns None when delivered, else why not.

Nothing here logs or keeps a webhook's path or query, which often carry a secret of
the receiver's: only its host.
"""

from datetime import datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from standardwebhooks import Webhook as Signer

from delivery.addresses import AddressRefused, LookupFailed
from delivery.http import NoAnswer, Sessions, deadline
from delivery.models import Delivery


def send(delivery: Delivery, sessions: Sessions, now: datetime) -> str | None:
    """Send `delivery` (its webhook loaded) now: None if delivered (a 2xx), else the
    reason it was not, for the retry schedule."""
    if delivery.webhook is None:
        return _publish(delivery, sessions.own)
    return _post_webhook(delivery, sessions.users, now)


def webhook_headers(delivery: Delivery, secret: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery sent `now`."""
    return {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(delivery.message_id, now, delivery.body.encode()),
        "Content-Type": "application/json",
    }


def _post_webhook(delivery: Delivery, session: requests.Session, now: datetime) -> str | None:
    hook = delivery.webhook
    assert hook is not None
    try:
        with deadline():
            response = session.post(
                hook.url,
                data=delivery.body.encode(),
                headers=webhook_headers(delivery, hook.secret, now),
            )
    except (AddressRefused, LookupFailed, NoAnswer) as error:
        return f"{urlsplit(hook.url).hostname}: {error}"
    except requests.RequestException as error:
        # The exception's text holds the URL: only its kind is kept.
        return f"{urlsplit(hook.url).hostname}: no answer ({type(error).__name__})"
    if 200 <= response.status_code < 300:
        return None
    return f"{urlsplit(hook.url).hostname}: HTTP {response.status_code}"


def publish_url(topic: str) -> str:
    """Dapr's pub/sub API for `topic` on DAPR_PUBSUB_NAME."""
    return f"{settings.DAPR_HTTP_ENDPOINT}/v1.0/publish/{settings.DAPR_PUBSUB_NAME}/{topic}"


def _publish(delivery: Delivery, sidecar: requests.Session) -> str | None:
    headers = {"Content-Type": "application/cloudevents+json"}
    if settings.DAPR_API_TOKEN:
        headers["dapr-api-token"] = settings.DAPR_API_TOKEN
    try:
        with deadline():
            response = sidecar.post(
                publish_url(delivery.queue.removeprefix("dapr:")),
                data=delivery.body.encode(),
                headers=headers,
            )
    except (NoAnswer, requests.RequestException) as error:
        return f"the Dapr sidecar: no answer ({type(error).__name__})"
    if 200 <= response.status_code < 300:
        return None
    return f"the Dapr sidecar: HTTP {response.status_code}"
