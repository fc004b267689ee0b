"""Two rounds on a tiny model, by the buttons of the rounds page: the next round's stories
are written by round 1's model, released, fine-tuned and evaluated; the page charts both
rounds and the lineage links every step. The test runs each queued task itself."""

import pytest
from playwright.sync_api import expect

from curation.models import Story
from generation.services.engine import job_work
from tests.browser.test_theme_curation import sign_in
from training.models import DatasetExport, Evaluation, FineTuneJob, Round
from training.services.runs import evaluation_run, finetune_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_rounds_from_the_rounds_page(
    chromium,
    live_server,
    admin_user,
    release,
    tiny_student,
    teacher,  # puts back the prompt versions an earlier transactional test emptied
    scripted,
    monkeypatch,
    artefacts,
):
    from curation.exports.runner import export_run
    from tests.training.test_rounds import round_one_work

    first = round_one_work(release, tiny_student, monkeypatch)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())  # "Start round 2...?": yes
    sign_in(page, live_server, "boss")
    page.goto(live_server.url + "/rounds/")
    page.get_by_label("Round 1 is the fine-tune").select_option("tiny-r1")
    page.get_by_role("button", name="Start round 1").click()
    expect(page.locator(".rounds tbody tr")).to_have_count(1)

    page.get_by_role("button", name="Next round").click()
    expect(page.locator(".rounds tbody tr")).to_have_count(2)
    second = Round.objects.get(number=2)
    assert second.stories_job.model == first.output_model  # written by round 1's model
    job_work(job_id=second.stories_job_id)
    Story.objects.filter(generation_job_id=second.stories_job_id).update(status="approved")
    page.reload()
    page.get_by_role("button", name="Release").click()
    export_run(export_id=DatasetExport.objects.latest("pk").pk)
    page.reload()
    page.get_by_role("button", name="Fine-tune").click()
    finetune_run(job_id=FineTuneJob.objects.latest("pk").pk)
    page.reload()
    page.get_by_role("button", name="Evaluate").click()
    evaluation_run(evaluation_id=Evaluation.objects.latest("pk").pk)
    page.reload()

    chart = page.locator('svg[aria-label^="Passed as written on held-out topics"]')
    expect(chart).to_be_visible()
    labels = chart.locator("text").all_text_contents()
    assert {"base", "round 1", "round 2", "Passed as written (%)"} <= set(labels)
    assert chart.locator("circle").count() == 3  # the base and both rounds, with intervals
    expect(page.get_by_role("button", name="Next round")).to_be_visible()  # from round 2
    page.screenshot(path=str(artefacts / "rounds.png"), full_page=True)

    # the lineage of round 2's model links every step back to round 1's model
    second.refresh_from_db()
    page.goto(live_server.url + f"/lineage/models/{second.model.name}/")
    rounds = page.locator("#lineage-rounds")
    expect(rounds.get_by_role("link", name=f"stories job #{second.stories_job_id}")).to_be_visible()
    expect(rounds.get_by_role("link", name=first.output_model.name)).to_be_visible()
    rounds.get_by_role("link", name=f"stories job #{second.stories_job_id}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.output_model.name)
    page.go_back()
    for step in (
        second.release.get_absolute_url(),
        second.finetune.get_absolute_url(),
        second.evaluation.get_absolute_url(),
    ):
        assert page.locator(f'a[href="{step}"]').count() >= 1, step
    context.close()
    assert errors == []
