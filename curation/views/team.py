"""People and roles (admins)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from storyapp.errors import form_errors_text, validation_text

from ..forms import UserRolesForm
from ..roles import ROLES
from ..services.team import user_set_roles


@require_GET
@permission_required("auth.change_user", raise_exception=True)
def team(request):
    User = get_user_model()
    users = User.objects.order_by("username").prefetch_related(
        Prefetch("groups", to_attr="role_groups")
    )
    return render(
        request,
        "curation/team.html",
        {"users": users, "roles": ROLES, "role_names": [role.name for role in ROLES]},
    )


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
