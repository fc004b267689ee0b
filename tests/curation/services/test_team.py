import pytest
from django.core.exceptions import ValidationError

from curation.services.team import user_set_roles


@pytest.mark.django_db
def test_an_admin_cannot_remove_their_own_admin_role(admin_user, editor):
    with pytest.raises(ValidationError) as excinfo:
        user_set_roles(user=admin_user, role_names=["Editor"], actor=admin_user)
    assert excinfo.value.code == "role_self_demote"
    user_set_roles(user=editor, role_names=["Reviewer", "Editor"], actor=admin_user)
    assert sorted(editor.groups.values_list("name", flat=True)) == ["Editor", "Reviewer"]
    with pytest.raises(ValidationError) as excinfo:
        user_set_roles(user=editor, role_names=["Overlord"], actor=admin_user)
    assert excinfo.value.code == "role_unknown"


def admins() -> set[str]:
    from django.contrib.auth.models import Group

    return set(
        Group.objects.get(name="Admin")
        .user_set.filter(is_active=True)
        .values_list("username", flat=True)
    )


@pytest.mark.django_db
def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(make_user):
    from curation.services.team import user_set_active

    boss, other = make_user("boss", "Admin"), make_user("other", "Admin")
    user_set_roles(user=other, role_names=["Editor"], actor=boss)
    assert admins() == {"boss"}
    helper = make_user("helper", "Editor")
    # nobody, not even another account with the right to manage people, removes the last one
    for change in (
        lambda: user_set_roles(user=boss, role_names=["Reviewer"], actor=helper),
        lambda: user_set_active(user=boss, active=False, actor=helper),
    ):
        with pytest.raises(ValidationError) as excinfo:
            change()
        assert excinfo.value.code == "last_admin"
    with pytest.raises(ValidationError) as excinfo:
        user_set_active(user=boss, active=False, actor=boss)
    assert excinfo.value.code == "self_deactivate"
    assert admins() == {"boss"}


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(make_user):
    import threading

    from django.db import connection

    alice, bob = make_user("alice", "Admin"), make_user("bob", "Admin")
    barrier = threading.Barrier(2)
    refused = []

    def demote(user, actor):
        try:
            barrier.wait()
            user_set_roles(user=user, role_names=["Editor"], actor=actor)
        except ValidationError as error:
            refused.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(alice, bob)),
        threading.Thread(target=demote, args=(bob, alice)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == ["last_admin"]
    assert len(admins()) == 1
