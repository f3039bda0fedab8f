"""The admin's door: every failed staff sign-in and every lockout is a security event.

django-axes counts the failures and locks out (settings: ADMIN_LOGIN_*); these receivers
write the log lines, with the username and client address, never the password.
"""

import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.ratelimit import client_address

security_log = logging.getLogger("todo_project.security")


def _event(reason: str, request: HttpRequest | None, username: Any) -> None:
    security_log.warning(
        "admin sign-in refused",
        extra={
            "reason": reason,
            "username": str(username or ""),
            "client": client_address(request) if request is not None else None,
            "path": request.path if request is not None else None,
        },
    )


@receiver(user_login_failed)
def log_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    if getattr(request, "axes_locked_out", False):
        return  # refused for the lockout, which log_lockout reports
    _event("wrong username or password", request, credentials.get("username"))


@receiver(user_locked_out)
def log_lockout(sender: Any, request: HttpRequest, username: Any = None, **_: Any) -> None:
    _event("locked out after too many failures", request, username)
