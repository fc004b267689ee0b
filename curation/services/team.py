"""People and roles: the role groups and who holds which role."""

import secrets
from collections.abc import Iterable
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.core.exceptions import ValidationError
from django.db import models, transaction

from storyapp.names import USERNAME_HELP, USERNAME_PATTERN, username_normalise

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


ADMIN_ROLE = "Admin"


def _lock_admins() -> Group:
    """Lock the Admin group row: every change that could remove an admin takes this lock
    first, so two of them run one after the other and the second counts what the first left
    (a lock on the users alone would not stop two admins demoting each other at once)."""
    return Group.objects.select_for_update().get(name=ADMIN_ROLE)


def _refuse_last_admin(user, admins: Group) -> None:
    others = admins.user_set.filter(is_active=True).exclude(pk=user.pk)
    if user.is_active and user.groups.filter(pk=admins.pk).exists() and not others.exists():
        raise ValidationError(
            "%(user)s is the last active admin; make someone else an admin first.",
            code="last_admin",
            params={"user": user.get_username()},
        )


@transaction.atomic
def user_set_roles(*, user, role_names: Iterable[str], actor) -> None:
    """Replace a user's role groups. An admin cannot remove their own Admin role, and nobody
    can remove the last active admin's."""
    known = {role.name for role in ROLES}
    wanted = set(role_names)
    unknown = wanted - known
    if unknown:
        raise ValidationError(
            "Unknown role: %(roles)s.", code="role_unknown", params={"roles": ", ".join(unknown)}
        )
    if ADMIN_ROLE not in wanted:
        admins = _lock_admins()
        if user.pk == actor.pk and user.groups.filter(pk=admins.pk).exists():
            raise ValidationError(
                "You cannot remove your own Admin role; ask another admin.",
                code="role_self_demote",
            )
        _refuse_last_admin(user, admins)
    user.groups.remove(*Group.objects.filter(name__in=known - wanted))
    user.groups.add(*Group.objects.filter(name__in=wanted))


@transaction.atomic
def user_set_active(*, user, active: bool, actor) -> None:
    """Activate or deactivate a user (they keep their history). Nobody deactivates themself
    or the last active admin."""
    if not active:
        if user.pk == actor.pk:
            raise ValidationError("You cannot deactivate yourself.", code="self_deactivate")
        _refuse_last_admin(user, _lock_admins())
    type(user).objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active


def _generated_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def user_create(*, username: str, role_names: Iterable[str], actor) -> tuple[AbstractUser, str]:
    """Create a user with roles and a generated password, returned once (never stored in
    clear). Refuses a taken or invalid username: NFKC-normalised, then ASCII letters, digits
    and @ . + - _ only, so no name can pass for another one (a Cyrillic "а" in "аdmin"), and
    unique regardless of case."""
    User = get_user_model()
    field = cast(models.Field, User._meta.get_field(User.USERNAME_FIELD))
    username = username_normalise(username)
    if username and not USERNAME_PATTERN.match(username):
        raise ValidationError(
            "A username uses %(help)s, so that no name can pass for another one.",
            code="username_invalid",
            params={"help": USERNAME_HELP},
        )
    try:
        field.run_validators(username)
    except ValidationError as error:
        raise ValidationError(error.messages, code="username_invalid") from None
    if not username or User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            "The username %(name)s is empty or taken.",
            code="username_taken",
            params={"name": username},
        )
    password = _generated_password()
    user = User.objects.create_user(username=username, password=password)
    user_set_roles(user=user, role_names=role_names, actor=actor)
    return user, password


@transaction.atomic
def user_reset_password(*, user, actor) -> str:
    """Give the user a new generated password, returned once; their sessions end."""
    password = _generated_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


def user_unlock(*, user) -> int:
    """Lift the sign-in lockout of this username (every client address); returns how many
    recorded failures were cleared."""
    from axes.utils import reset

    return reset(username=user.get_username())
