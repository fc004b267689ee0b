"""Sign-in throttling inputs for django-axes: who is asking (client address) and for whom."""

import ipaddress

from django.conf import settings

USERNAME_MAX_LENGTH = 150


def client_ip(request) -> str:
    """The client's address for the lockout (AXES_CLIENT_IP_CALLABLE).

    Direct: REMOTE_ADDR. Behind ``STORYAPP_PROXY_COUNT`` trusted proxies (with
    ``STORYAPP_BEHIND_PROXY=1``): each proxy appends the address it received the request from to
    X-Forwarded-For, so the client is the Nth entry from the right. Entries further left were
    written by the client itself and are never trusted; a header shorter than the chain, or an
    entry that is not an IP address, falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.STORYAPP_PROXY_COUNT if settings.STORYAPP_BEHIND_PROXY else 0
    if count <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_username(request, credentials) -> str:
    """The username axes records (AXES_USERNAME_CALLABLE): what the login form would accept.

    The raw field can be any length or hold a NUL, which PostgreSQL refuses in a text column;
    a username longer than any real one cannot belong to an account anyway.
    """
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(username).replace("\x00", "")[:USERNAME_MAX_LENGTH]
