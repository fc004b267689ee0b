import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_team_page_changes_roles(admin_client, editor):
    response = admin_client.post(
        reverse("curation:team_set_roles", args=[editor.pk]), {"roles": ["Reviewer"]}
    )
    assert response.status_code == 302
    assert list(editor.groups.values_list("name", flat=True)) == ["Reviewer"]
    page = admin_client.get(reverse("curation:team"))
    assert b"ed now has: Reviewer" in page.content
