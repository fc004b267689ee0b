"""Site-wide views: the health check and the CSRF failure page."""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness and database reachability for load balancers; no login, no secrets."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        database = {"status": "error", "vendor": connection.vendor}
    else:
        database = {"status": "ok", "vendor": connection.vendor}
    ok = database["status"] == "ok"
    return JsonResponse(
        {"status": "ok" if ok else "error", "database": database}, status=200 if ok else 503
    )


@login_not_required
def csrf_failure(request, reason=""):
    return render(
        request,
        "403.html",
        {
            "message": "The form was stale or came from elsewhere (CSRF check failed). "
            "Reload the page and try again."
        },
        status=403,
    )
