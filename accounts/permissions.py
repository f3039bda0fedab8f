"""Who may touch the resources under `/api/{user_id}/`."""

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the permission settings: no cycle
    from rest_framework.views import APIView

OWN_ID_ALIAS = "me"


class IsPathUser(BasePermission):
    """The `{user_id}` in the URL must be the token's `sub`, or the literal `me`."""

    message = "This token does not belong to the user in the URL."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        path_user = view.kwargs.get("user_id")
        return path_user is None or path_user in (OWN_ID_ALIAS, request.user.id)
