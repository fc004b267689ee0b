"""People and roles: the role groups and who holds which role."""

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from ..roles import ROLES


@transaction.atomic
def roles_sync() -> list[Group]:
    """Create the role groups and set exactly their permissions. Idempotent."""
    groups = []
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        perms = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".", 1)
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        for app_label in role.all_permissions_of_apps:
            perms.extend(Permission.objects.filter(content_type__app_label=app_label))
        group.permissions.set(perms)
        groups.append(group)
    return groups


@transaction.atomic
def user_set_roles(*, user, role_names: Iterable[str], actor) -> None:
    """Replace a user's role groups. An admin cannot remove their own Admin role."""
    known = {role.name for role in ROLES}
    wanted = set(role_names)
    unknown = wanted - known
    if unknown:
        raise ValidationError(
            "Unknown role: %(roles)s.", code="role_unknown", params={"roles": ", ".join(unknown)}
        )
    if user.pk == actor.pk and "Admin" not in wanted and user.groups.filter(name="Admin").exists():
        raise ValidationError(
            "You cannot remove your own Admin role; ask another admin.", code="role_self_demote"
        )
    user.groups.remove(*Group.objects.filter(name__in=known - wanted))
    user.groups.add(*Group.objects.filter(name__in=wanted))
