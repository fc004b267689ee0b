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
