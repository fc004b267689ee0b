import pytest

from curation.approval import Policy


@pytest.mark.parametrize(
    ("reviews_", "status"),
    [
        ([], "pending"),
        ([("approve", 5)], "pending"),
        ([("approve", 5), ("approve", 4)], "approved"),
        ([("approve", 4), ("approve", 3)], "adjudication"),  # mean 3.5 < 4.0
        ([("approve", 5), ("reject", 2)], "adjudication"),  # a reject blocks approval
        ([("reject", 1), ("reject", 2)], "rejected"),
        ([("reject", 1)], "pending"),  # one of two is not a majority of 2
    ],
)
def test_policy_with_overlap_two(reviews_, status):
    assert Policy(overlap=2, approve_mean=4.0).status_for(reviews_) == status


def test_policy_with_overlap_three_rejects_on_a_majority_early():
    policy = Policy(overlap=3, approve_mean=4.0)
    assert policy.status_for([("reject", 1), ("reject", 1)]) == "rejected"
    assert policy.status_for([("approve", 5), ("approve", 5)]) == "pending"
    assert policy.status_for([("approve", 5)] * 3) == "approved"
