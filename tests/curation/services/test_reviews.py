from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from curation.models import Story
from curation.services import reviews
from tests.factories import StoryFactory, review_data


@pytest.mark.django_db
def test_two_approving_reviews_approve_the_story(make_user):
    story = StoryFactory()
    for name in ("r1", "r2"):
        reviews.review_submit(
            story_id=story.pk, reviewer=make_user(name, "Reviewer"), data=review_data()
        )
    story.refresh_from_db()
    assert (story.status, story.review_count, story.mean_overall) == ("approved", 2, 5.0)


@pytest.mark.django_db
def test_majority_reject_rejects_and_split_goes_to_adjudication(make_user):
    rejected, split = StoryFactory(), StoryFactory()
    r1, r2 = make_user("r1", "Reviewer"), make_user("r2", "Reviewer")
    for reviewer in (r1, r2):
        reviews.review_submit(
            story_id=rejected.pk,
            reviewer=reviewer,
            data=review_data(1, "reject", reason="incoherent"),
        )
    reviews.review_submit(story_id=split.pk, reviewer=r1, data=review_data(5))
    reviews.review_submit(story_id=split.pk, reviewer=r2, data=review_data(2, "reject"))
    rejected.refresh_from_db()
    split.refresh_from_db()
    assert rejected.status == "rejected" and split.status == "adjudication"


@pytest.mark.django_db
def test_reviewing_the_same_story_twice_is_refused_clearly(make_user):
    story = StoryFactory()
    reviewer = make_user("r1", "Reviewer")
    reviews.review_submit(story_id=story.pk, reviewer=reviewer, data=review_data())
    with pytest.raises(ValidationError) as excinfo:
        reviews.review_submit(story_id=story.pk, reviewer=reviewer, data=review_data(1, "reject"))
    assert excinfo.value.code == "already_reviewed"
    assert "already reviewed this story" in excinfo.value.messages[0]
    assert story.reviews.count() == 1


@pytest.mark.django_db
def test_a_decided_story_takes_no_more_reviews(make_user):
    story = StoryFactory()
    for name in ("r1", "r2"):
        reviews.review_submit(
            story_id=story.pk, reviewer=make_user(name, "Reviewer"), data=review_data()
        )
    with pytest.raises(ValidationError) as excinfo:
        reviews.review_submit(
            story_id=story.pk, reviewer=make_user("r3", "Reviewer"), data=review_data()
        )
    assert excinfo.value.code == "story_decided"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (review_data(6), "score_range"),
        (review_data(5, "maybe"), "decision_invalid"),
        (review_data(5, reason="bored"), "reason_invalid"),
        (review_data(5, comment="x" * 2001), "comment_too_long"),
    ],
)
def test_invalid_reviews_are_refused_with_codes(make_user, data, code):
    story = StoryFactory()
    with pytest.raises(ValidationError) as excinfo:
        reviews.review_submit(story_id=story.pk, reviewer=make_user("r1", "Reviewer"), data=data)
    assert code in [e.code for e in excinfo.value.error_list]
    assert story.reviews.count() == 0


@pytest.mark.django_db
def test_an_edit_is_kept_beside_the_original(make_user):
    story = StoryFactory(text="Original first.\n\nOriginal second.")
    review = reviews.review_submit(
        story_id=story.pk,
        reviewer=make_user("r1", "Reviewer"),
        data=review_data(edited_text="Better first.\n\nOriginal second."),
    )
    story.refresh_from_db()
    assert story.text == "Original first.\n\nOriginal second."
    assert review.edited_text == "Better first.\n\nOriginal second."


@pytest.mark.django_db
def test_admin_adjudication_and_override_are_recorded(make_user):
    admin = make_user("boss", "Admin")
    story = StoryFactory(status="adjudication")
    with pytest.raises(ValidationError) as excinfo:
        reviews.story_adjudicate(story_id=story.pk, admin=admin, decision="approve", reason=" ")
    assert excinfo.value.code == "reason_required"
    reviews.story_adjudicate(
        story_id=story.pk, admin=admin, decision="approve", reason="Good enough"
    )
    story.refresh_from_db()
    assert story.status == "approved"
    # An override of an approved story is recorded the same way.
    reviews.story_adjudicate(story_id=story.pk, admin=admin, decision="reject", reason="Unsafe")
    assert list(story.adjudications.values_list("from_status", "to_status", "reason")) == [
        ("approved", "rejected", "Unsafe"),
        ("adjudication", "approved", "Good enough"),
    ]


@pytest.mark.django_db
def test_queue_gives_each_reviewer_a_different_story_and_respects_reservations(make_user):
    first, second = StoryFactory(), StoryFactory()
    alice, bob = make_user("alice", "Reviewer"), make_user("bob", "Reviewer")
    got_alice = reviews.story_next_for(user=alice)
    got_bob = reviews.story_next_for(user=bob)
    assert {got_alice.pk, got_bob.pk} == {first.pk, second.pk}
    # Asking again returns the story one already holds.
    assert reviews.story_next_for(user=alice).pk == got_alice.pk
    # An expired reservation is free again.
    Story.objects.filter(pk=got_alice.pk).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    carol = make_user("carol", "Reviewer")
    assert reviews.story_next_for(user=carol).pk == got_alice.pk


@pytest.mark.django_db
def test_queue_never_offers_a_story_i_reviewed_or_one_with_enough_reviews(make_user):
    story = StoryFactory()
    alice, bob, carol = (make_user(n, "Reviewer") for n in ("alice", "bob", "carol"))
    reviews.review_submit(story_id=story.pk, reviewer=alice, data=review_data())
    assert reviews.story_next_for(user=alice) is None
    assert reviews.story_next_for(user=bob).pk == story.pk
    reviews.review_submit(story_id=story.pk, reviewer=bob, data=review_data(3))
    assert reviews.story_next_for(user=carol) is None


@pytest.mark.django_db
def test_skip_releases_the_story_for_others(make_user):
    story = StoryFactory()
    alice, bob = make_user("alice", "Reviewer"), make_user("bob", "Reviewer")
    assert reviews.story_next_for(user=alice).pk == story.pk
    assert reviews.story_next_for(user=bob) is None
    reviews.story_release(story_id=story.pk, user=alice)
    assert reviews.story_next_for(user=alice, skip=[story.pk]) is None
    assert reviews.story_next_for(user=bob).pk == story.pk


@pytest.mark.django_db
def test_a_story_held_by_another_reviewer_cannot_be_reviewed_by_me(make_user):
    holder, intruder = make_user("holder", "Reviewer"), make_user("intruder", "Reviewer")
    story = StoryFactory()
    assert reviews.story_next_for(user=holder).pk == story.pk
    with pytest.raises(ValidationError) as excinfo:
        reviews.review_submit(story_id=story.pk, reviewer=intruder, data=review_data())
    assert excinfo.value.code == "story_reserved"
    # the holder's work still goes through
    reviews.review_submit(story_id=story.pk, reviewer=holder, data=review_data())
    story.refresh_from_db()
    assert story.review_count == 1
    # once a reservation has expired, anyone may review
    Story.objects.filter(pk=story.pk).update(
        reserved_by=holder, reserved_until=timezone.now() - timedelta(minutes=1)
    )
    reviews.review_submit(story_id=story.pk, reviewer=intruder, data=review_data())
