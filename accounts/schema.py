"""How the OpenAPI document describes Better Auth authentication and the user in a URL."""

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

if TYPE_CHECKING:  # drf_spectacular.openapi imports DRF's views: no cycle at start-up
    from drf_spectacular.openapi import AutoSchema


class BetterAuthJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BetterAuthJWTAuthentication"
    name = "BetterAuthJWT"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A JWT issued by Better Auth's jwt plugin (`GET /api/auth/token`): "
                "EdDSA, ES256, ES512, RS256 or PS256, verified with the key its `kid` "
                "names in Better Auth's JWKS; or HS256/384/512 signed with "
                "`BETTER_AUTH_SECRET`. Its `sub` claim is the user id. Locally: "
                "`python manage.py issue_token USER_ID`."
            ),
        }


USER_ID_PARAMETER = OpenApiParameter(
    "user_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The token's `sub`, or `me` for the caller.",
)
