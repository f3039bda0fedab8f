"""How the OpenAPI document describes Better Auth authentication."""

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

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
                "A JWT issued by Better Auth (`GET /api/auth/token` on the frontend's "
                "auth server), signed with `BETTER_AUTH_SECRET` (HS256/384/512). Its "
                "`sub` claim is the user id. Locally: `python manage.py issue_token ID`."
            ),
        }
