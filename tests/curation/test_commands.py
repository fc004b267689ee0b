import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from curation.models import Theme, ThemeEvent
from tests.curation.exports.support import approved_story
from tests.factories import ThemeFactory


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_themes_with_one_bad_line_among_500_exits_2_names_it_and_writes_nothing(tmp_path):
    lines = [f"Theme {i}" for i in range(500)]
    lines.insert(250, "Bad\x00line")
    path = tmp_path / "themes.txt"
    path.write_text("\n".join(lines))
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_themes", str(path), stdout=io.StringIO(), stderr=err)
    assert excinfo.value.returncode == 2
    assert f"{path}:251: contains control character U+0000" in err.getvalue()
    assert Theme.objects.count() == 0


@pytest.mark.django_db
def test_import_themes_clean_file_imports_all_and_reports_skipped_duplicates(tmp_path):
    ThemeFactory(name="Theme 7")
    path = tmp_path / "themes.csv"
    path.write_text("theme\n" + "\n".join(f"theme {i}" for i in range(500)) + "\nTHEME 3\n")
    out, _ = run("import_themes", str(path))
    assert Theme.objects.count() == 500
    assert "Imported 499 theme(s)" in out
    assert "Skipped 2 duplicate(s)" in out
    assert "line 9: 'theme 7' duplicates 'Theme 7'" in out
    assert "line 502: 'THEME 3' duplicates 'theme 3'" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x" * (1024 * 1024 + 1), "the limit is 1048576 bytes"),
        (b"", "holds no themes"),
    ],
)
def test_import_themes_refuses_oversized_and_empty_files_with_exit_2(tmp_path, content, message):
    path = tmp_path / "themes.txt"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as excinfo:
        run("import_themes", str(path))
    assert excinfo.value.returncode == 2


@pytest.mark.django_db
def test_import_themes_missing_file_exits_2(tmp_path):
    with pytest.raises(CommandError, match="Cannot read") as excinfo:
        run("import_themes", str(tmp_path / "nope.txt"))
    assert excinfo.value.returncode == 2


@pytest.mark.django_db
def test_bootstrap_twice_changes_nothing(monkeypatch, settings):
    settings.STORYAPP_DEMO_PASSWORD = ""

    def counts():
        return (
            Theme.objects.count(),
            Theme.objects.restricted().count(),
            ThemeEvent.objects.count(),
            Group.objects.count(),
            get_user_model().objects.count(),
        )

    first_out, _ = run("bootstrap", "--demo")
    first = counts()
    second_out, _ = run("bootstrap", "--demo")
    assert counts() == first
    assert first[0] >= 190 and first[1] >= 5
    assert first[3] == 3 and first[4] == 3
    # Generated passwords are printed once, on creation, and work.
    editor_line = next(line for line in first_out.splitlines() if line.strip().startswith("editor"))
    password = editor_line.split()[-1]
    assert get_user_model().objects.get(username="editor").check_password(password)
    assert password not in second_out
    assert "already exist" in second_out


@pytest.mark.django_db
def test_bootstrap_demo_uses_the_configured_password(settings):
    settings.STORYAPP_DEMO_PASSWORD = "a-chosen-demo-password"
    out, _ = run("bootstrap", "--demo")
    assert "a-chosen-demo-password" not in out
    User = get_user_model()
    for username, role in (("editor", "Editor"), ("reviewer", "Reviewer"), ("admin", "Admin")):
        user = User.objects.get(username=username)
        assert user.check_password("a-chosen-demo-password")
        assert list(user.groups.values_list("name", flat=True)) == [role]


@pytest.mark.django_db
def test_the_bench_data_has_the_asked_numbers_with_policy_statuses():
    from bench.review_data import make_review_data
    from curation.approval import Policy
    from curation.models import Review, Story

    out = make_review_data(stories=100, reviews=250, reviewers=5)
    assert "Made 100 stories (10 unreviewed, 10 with one review, 80 with three)" in out
    assert Story.objects.count() == 100 and Review.objects.count() == 250
    policy = Policy(overlap=3, approve_mean=4.0)
    for story in Story.objects.filter(review_count=3)[:20]:
        rows = list(story.reviews.values_list("decision", "overall"))
        assert story.status == policy.status_for(rows)


@pytest.mark.django_db
def test_export_dataset_command(tmp_path, var_dir):
    approved_story()
    out = io.StringIO()
    call_command(
        "export_dataset",
        "--format",
        "chat",
        "--out",
        str(tmp_path / "rel"),
        "--seed",
        "7",
        "--name",
        "cli",
        stdout=out,
    )
    manifest = out.getvalue().strip()
    assert manifest == str(tmp_path / "rel" / "manifest.json")
    assert json.loads(open(manifest).read())["seed"] == 7
    with pytest.raises(CommandError, match="No approved story matches") as excinfo:
        call_command("export_dataset", "--model", "nobody", "--name", "none", stdout=out)
    assert excinfo.value.returncode == 2
    with pytest.raises(CommandError) as excinfo:
        call_command("export_dataset", "--val-fraction", "1.5", "--name", "bad", stdout=out)
    assert excinfo.value.returncode == 2
