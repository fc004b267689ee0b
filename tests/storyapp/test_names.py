"""One name rule for everything that becomes part of a URL or a folder (model profiles,
fine-tunes, releases), in forms, commands, services and the database; usernames that cannot
pass for another one."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from curation.exports.services import export_create
from curation.models import DatasetExport
from curation.services.team import user_create
from generation.models import ModelProfile
from generation.services.registry import model_register
from storyapp.names import NAME_MAX, name_from, name_valid
from tests.factories import ModelProfileFactory, StoryFactory
from training.models import Evaluation, FineTuneJob
from training.services.evaluation import evaluation_create

BAD_NAMES = ["modèle", "²³", "Student", "-lead", ".hidden", "a/b", "a b", "x" * (NAME_MAX + 1), ""]
GOOD_NAMES = ["student", "student-r2", "smol.v2_tuned", "1st", "x" * NAME_MAX]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_the_rule_takes_ascii_lower_case_names_up_to_the_limit(name):
    assert name_valid(name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_rule_refuses_other_names(name):
    assert not name_valid(name)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["modèle", "²³", "x" * 101])
def test_register_model_refuses_a_name_pages_cannot_route(name):
    with pytest.raises(ValidationError) as excinfo:
        model_register(name=name, role="student", backend="transformers", model="/m")
    assert excinfo.value.code == "model_name_invalid"
    with pytest.raises(CommandError) as command:
        call_command(
            "register_model", name, "--role=student", "--backend=transformers", "--model=/m"
        )
    assert command.value.returncode == 2 and "lower-case ASCII" in str(command.value)
    assert not ModelProfile.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["modèle", "²³", "x" * 65])
def test_the_finetune_command_and_form_refuse_such_names(name, admin_client, var_dir):
    DatasetExport.objects.create(name="rel", status="done", format="chat")
    ModelProfileFactory(name="base", role="student")
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "finetune", "--release", "rel", "--base", "base", "--name", name, stdout=io.StringIO()
        )
    assert excinfo.value.returncode == 2 and "lower-case ASCII" in str(excinfo.value)
    page = admin_client.post(
        "/training/new/",
        {"release": "rel", "base": "base", "name": name, "epochs": 1},
        follow=True,
    )
    assert "lower-case ASCII" in page.content.decode()
    assert not FineTuneJob.objects.exists()


@pytest.mark.django_db
def test_releases_follow_the_same_rule(var_dir):
    with pytest.raises(ValidationError) as excinfo:
        export_create(name="versión", enqueue=False)
    assert "lower-case ASCII" in " ".join(excinfo.value.messages)
    StoryFactory(status="approved", topic__status="approved", topic__theme__status="approved")
    assert export_create(name="v1.2_final", enqueue=False).name == "v1.2_final"


@pytest.mark.django_db
def test_the_database_refuses_a_name_that_skipped_the_services():
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelProfile.objects.create(name="modèle", role="student", backend="transformers")
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetExport.objects.create(name="Release")


@pytest.mark.django_db
def test_an_evaluation_of_two_long_names_fits_its_column(var_dir):
    first = ModelProfileFactory(name="a" * NAME_MAX)
    second = ModelProfileFactory(name="b" * NAME_MAX)
    third = ModelProfileFactory(name="c" * NAME_MAX)
    from tests.factories import TopicFactory

    topic = TopicFactory(status="approved")
    evaluation = evaluation_create(
        profiles=[first, second, third], topic_ids=[topic.pk], enqueue=False
    )
    limit = Evaluation._meta.get_field("name").max_length
    assert len(evaluation.name) <= limit and evaluation.name.startswith("a" * NAME_MAX + " vs ")


def test_a_name_derived_from_any_text_follows_the_rule():
    assert name_from("Modèle Ünïcode") == "modele-unicode"
    assert name_from("²³") == "23"
    assert name_valid(name_from("x" * 300)) and name_valid(name_from("///"))


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_old_rows_and_keeps_the_old_name(client):
    """Rows stored before the rule (a non-ASCII profile, a long release) are renamed, their
    old names kept, and every page of theirs answers."""
    executor = MigrationExecutor(connection)
    before = [("generation", "0008_jobitem_cut_at_bound"), ("curation", "0008_export_warnings")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("generation", "ModelProfile").objects.create(
        name="modèle", role="student", backend="transformers", model="/m", queue="student"
    )
    old.get_model("curation", "DatasetExport").objects.create(name="r" * 90, status="done")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    profile = ModelProfile.objects.get(renamed_from="modèle")
    release = DatasetExport.objects.get(renamed_from="r" * 90)
    assert profile.name == "modele" and name_valid(release.name)
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="boss", role="Admin"))
    for url in (
        profile.get_absolute_url(),
        f"/lineage/models/{profile.name}/",
        release.get_absolute_url(),
        f"/lineage/releases/{release.name}/",
        "/models/",
        "/exports/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("аdmin", "username_invalid"),  # a Cyrillic а: a homoglyph of "admin"
        ("ADMIN", "username_taken"),
        ("ａｄｍｉｎ", "username_taken"),  # full-width letters, "admin" after NFKC
        ("ädmin", "username_invalid"),
    ],
)
def test_a_username_that_could_pass_for_another_is_refused(username, code, admin_user, roles):
    user_create(username="admin", role_names=["Reviewer"], actor=admin_user)
    with pytest.raises(ValidationError) as excinfo:
        user_create(username=username, role_names=["Reviewer"], actor=admin_user)
    assert excinfo.value.code == code
