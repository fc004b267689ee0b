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


@pytest.mark.django_db
def test_admins_create_deactivate_reset_and_unlock_users(admin_client, settings):
    from django.contrib.auth import get_user_model
    from django.test import Client

    User = get_user_model()

    def signs_in(username, password) -> bool:
        response = Client().post("/login/", {"username": username, "password": password})
        return response.status_code == 302

    response = admin_client.post("/team/new/", {"username": "newbie", "roles": ["Reviewer"]})
    assert response.status_code == 200
    body = response.content.decode()
    password = body.split('id="one-time-password"')[1].split('<code class="mono">')[1].split("<")[0]
    user = User.objects.get(username="newbie")
    assert list(user.groups.values_list("name", flat=True)) == ["Reviewer"]
    assert signs_in("newbie", password)
    # the password is shown once: the team page does not show it again
    assert password.encode() not in admin_client.get("/team/").content
    # reset: a new password, the old one stops working
    body = admin_client.post(f"/team/{user.pk}/reset-password/").content.decode()
    new_password = body.split('<code class="mono">')[1].split("<")[0]
    assert new_password != password
    assert not signs_in("newbie", password)
    # a locked-out user is shown as such and can be unlocked
    for _ in range(settings.AXES_FAILURE_LIMIT):
        signs_in("newbie", "wrong")
    assert not signs_in("newbie", new_password)
    assert b"locked out" in admin_client.get("/team/").content
    admin_client.post(f"/team/{user.pk}/unlock/")
    assert b"locked out" not in admin_client.get("/team/").content
    assert signs_in("newbie", new_password)
    # deactivated users cannot sign in
    admin_client.post(f"/team/{user.pk}/deactivate/")
    user.refresh_from_db()
    assert not user.is_active and not signs_in("newbie", new_password)


@pytest.mark.django_db
def test_a_taken_username_is_a_form_error(admin_client, make_user):
    make_user("taken")
    response = admin_client.post("/team/new/", {"username": "TAKEN", "roles": []})
    assert response.status_code == 400 and b"empty or taken" in response.content


@pytest.mark.django_db
def test_the_team_page_says_what_a_deactivated_person_is_told(admin_client, editor, admin_user):
    from curation.services.team import user_set_active

    user_set_active(user=editor, active=False, actor=admin_user)
    body = admin_client.get("/team/").content.decode()
    assert 'badge warn" title="Signing in tells them only' in body
    assert 'id="sign-in-note"' in body and "wrong username or password" in body
