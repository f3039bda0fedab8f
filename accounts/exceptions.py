"""The ways token verification refuses a request, as DRF exceptions the problem
handler renders."""

from rest_framework.exceptions import APIException, AuthenticationFailed

REFUSED_DETAIL = "The access token is invalid."
EXPIRED_DETAIL = "The access token has expired."


class TokenRefused(AuthenticationFailed):
    """401. `reason` says which check failed; it is logged, never sent to the client."""

    def __init__(self, reason: str, detail: str = REFUSED_DETAIL) -> None:
        super().__init__(detail)
        self.reason = reason


class KeysUnavailable(APIException):
    """No key can verify the token now because Better Auth is unreachable: 503."""

    status_code = 503
    default_detail = "The sign-in service's keys can't be fetched right now; try again shortly."

    def __init__(self, wait: float) -> None:
        super().__init__()
        self.wait = wait
