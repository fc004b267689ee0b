"""People and roles (admins)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from storyapp.errors import form_errors_text, validation_text

from .. import selectors
from ..forms import UserCreateForm, UserRolesForm
from ..roles import ROLES
from ..services.team import (
    user_create,
    user_reset_password,
    user_set_active,
    user_set_roles,
    user_unlock,
)


def _team_page(request, *, form=None, one_time=None, status=200):
    users = (
        get_user_model()
        .objects.order_by("username")
        .prefetch_related(Prefetch("groups", to_attr="role_groups"))
    )
    return render(
        request,
        "curation/team.html",
        {
            "users": users,
            "roles": ROLES,
            "role_names": [role.name for role in ROLES],
            "locked": selectors.locked_usernames(),
            "form": form or UserCreateForm(role_names=[role.name for role in ROLES]),
            # (username, password) shown once, after a create or a reset: never stored.
            "one_time": one_time,
        },
        status=status,
    )


@require_GET
@permission_required("auth.change_user", raise_exception=True)
def team(request):
    return _team_page(request)


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def team_create(request):
    form = UserCreateForm(request.POST, role_names=[role.name for role in ROLES])
    if form.is_valid():
        try:
            user, password = user_create(
                username=form.cleaned_data["username"],
                role_names=form.cleaned_data["roles"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error("username", error)
        else:
            messages.success(request, f"Created {user.username}.")
            return _team_page(request, one_time=(user.username, password))
    return _team_page(request, form=form, status=400)


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def team_user_action(request, user_id: int, action: str):
    """Deactivate, reactivate, reset the password of, or unlock one user."""
    user = get_object_or_404(get_user_model(), pk=user_id)
    one_time = None
    try:
        if action in ("deactivate", "activate"):
            user_set_active(user=user, active=action == "activate", actor=request.user)
            messages.success(
                request, f"{user.username} is {'active' if user.is_active else 'deactivated'}."
            )
        elif action == "reset-password":
            one_time = (user.username, user_reset_password(user=user, actor=request.user))
            messages.success(request, f"New password for {user.username} (shown once below).")
        elif action == "unlock":
            cleared = user_unlock(user=user)
            messages.success(
                request, f"{user.username} can sign in again ({cleared} lockout record(s) cleared)."
            )
        else:
            raise Http404("No such action.")
    except ValidationError as error:
        messages.error(request, validation_text(error))
    if one_time:
        return _team_page(request, one_time=one_time)
    return HttpResponseRedirect(reverse("curation:team"))


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def team_set_roles(request, user_id: int):
    User = get_user_model()
    user = get_object_or_404(User, pk=user_id)
    form = UserRolesForm(request.POST, role_names=[role.name for role in ROLES])
    if form.is_valid():
        try:
            user_set_roles(user=user, role_names=form.cleaned_data["roles"], actor=request.user)
        except ValidationError as error:
            messages.error(request, validation_text(error))
        else:
            roles = ", ".join(form.cleaned_data["roles"]) or "no role"
            messages.success(request, f"{user.username} now has: {roles}.")
    else:
        messages.error(request, form_errors_text(form))
    return HttpResponseRedirect(reverse("curation:team"))
