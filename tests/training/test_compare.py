import pytest

from tests.factories import TopicFactory
from training.models import Judgment
from training.selectors import comparison_results
from training.services.comparison import judgment_next_for, judgment_record
from training.services.evaluation import evaluation_create
from training.services.runs import evaluation_run


@pytest.fixture
def pairs(models):  # noqa: F811
    weak, good = models
    topics = [TopicFactory(status="approved", text=f"A quiet tale {n}") for n in range(20)]
    evaluation = evaluation_create(
        profiles=[weak, good], topic_ids=[t.pk for t in topics], enqueue=False
    )
    evaluation_run(evaluation_id=evaluation.pk)
    return evaluation


@pytest.mark.django_db
def test_the_page_is_blind_and_the_order_is_drawn_for_each_pair(pairs, reviewer_client):
    orders = set()
    for _ in range(20):
        page = reviewer_client.get("/compare/")
        body = page.content.decode()
        assert page.status_code == 200
        for name in ("weak", "good"):
            assert name not in body.lower()
        judgment = Judgment.objects.filter(winner="").get()
        orders.add(judgment.left_is_a)
        reviewer_client.post(f"/compare/{judgment.pk}/", {"choice": "left"})
    assert orders == {True, False}  # both orders occur over 20 pairs
    assert b"Nothing to compare" in reviewer_client.get("/compare/").content


@pytest.mark.django_db
def test_results_count_wins_ties_position_and_agreement(pairs, make_user):
    alice, bob = make_user("alice", "Reviewer"), make_user("bob", "Reviewer")
    for reviewer in (alice, bob):
        while (judgment := judgment_next_for(user=reviewer)) is not None:
            # the good model's story wins, except a tie on the first pair
            if judgment.pair_id == pairs.pairs.order_by("pk").first().pk:
                choice = "tie"
            else:
                good_is_left = (judgment.pair.a.model.name == "good") == judgment.left_is_a
                choice = "left" if good_is_left else "right"
            judgment_record(judgment_id=judgment.pk, user=reviewer, choice=choice)
    results = comparison_results()
    [row] = results["pairs"]
    assert (row["first"], row["second"], row["n"], row["ties"]) == ("good", "weak", 40, 2)
    assert row["win_rate"] == (38 + 1) / 40  # ties count half
    assert row["low"] > 0.5
    assert results["bradley_terry"]["good"] > results["bradley_terry"]["weak"]
    position = results["position"]
    assert position["decided"] == 38
    left = Judgment.objects.exclude(winner="tie").filter(left_is_a=True, winner="a").count()
    left += Judgment.objects.exclude(winner="tie").filter(left_is_a=False, winner="b").count()
    assert position["left_wins"] == left
    assert results["agreement"] == {"pairs_judged_twice": 20, "agreeing": 20, "share": 1.0}
    assert set(results["themes"]) >= {p.a.topic.theme.name for p in pairs.pairs.all()}


@pytest.mark.django_db
def test_a_judgment_is_the_servers_not_anyone_elses(pairs, make_user):
    from django.core.exceptions import ValidationError

    alice, mallory = make_user("alice", "Reviewer"), make_user("mallory", "Reviewer")
    judgment = judgment_next_for(user=alice)
    with pytest.raises(ValidationError) as excinfo:
        judgment_record(judgment_id=judgment.pk, user=mallory, choice="left")
    assert excinfo.value.code == "not_yours"


@pytest.mark.django_db
def test_the_page_shows_each_story_as_written_with_the_repair_one_click_away(reviewer_client):
    from tests.factories import ComparisonPairFactory, EvaluationSampleFactory

    written = "It began.\n\nShe walked.\n\nShe came home."
    repaired = "It began. She walked.\n\nShe came home."
    pair = ComparisonPairFactory(
        a=EvaluationSampleFactory(text=written, judged_text=repaired, repaired=True)
    )
    body = reviewer_client.get("/compare/").content.decode()
    assert pair.a.topic.text in body
    # as written: three paragraphs on the page, the repair behind a click
    assert "<p>It began.</p>" in body and "<p>She walked.</p>" in body
    assert "As repaired by the gates" in body and "<p>It began. She walked.</p>" in body
    assert body.count("As repaired by the gates") == 1  # only the repaired story has one
