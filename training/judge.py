"""The model judge's prompts (versioned: a verdict records the version it was asked with) and
how its replies are read. Pure functions: the runs are in services/judge_runs.py.

Pairs follow MT-Bench's pairwise judge: both stories in one prompt, a verdict and a short
reason; each pair is asked in both orders and a winner that flips with the order is a tie.
Single stories are read against the seed's brief point by point (yes / no and a reason)."""

import json
import re

BRIEF = (
    "The brief: a completely new story about the topic, short, exactly TWO small paragraphs, "
    "with a clear conclusion and well-defined characters. A reply that is not a story (an "
    "answer, assistant chatter, a title, commentary) does not meet it."
)
PAIR_VERSION = "pair-v1"
STORY_VERSION = "story-v1"
CRITERIA = {
    "two_paragraphs": "exactly two small paragraphs",
    "conclusion": "a clear conclusion",
    "characters": "well-defined characters",
}
WINNERS = ("1", "2", "tie")


def server_judge(url: str, model: str) -> dict:
    """Profile fields of a judge behind an OpenAI-compatible server as the benches ask it:
    greedy, 300 new tokens (a verdict and its reasons), 8 requests at a time."""
    return {
        "role": "judge",
        "backend": "openai",
        "model": model,
        "base_url": url,
        "temperature": 0.0,
        "top_p": 1.0,
        "max_new_tokens": 300,
        "concurrency": 8,
    }


def pair_messages(topic: str, first: str, second: str) -> list[dict]:
    """The pairwise prompt (PAIR_VERSION): ``first`` is shown as story 1."""
    return [
        {
            "role": "system",
            "content": (
                "You are a strict, impartial judge of very short stories. Compare two stories "
                f"written for the same topic against the brief. {BRIEF} Do not let the order "
                "of the stories, their length or their style sway you."
            ),
        },
        {
            "role": "user",
            "content": (
                f"Topic: {topic}\n\n[Story 1]\n{first}\n[End of story 1]\n\n"
                f"[Story 2]\n{second}\n[End of story 2]\n\n"
                'Which story meets the brief better? Reply with JSON only: {"winner": "1", '
                '"2" or "tie", "reason": "one sentence"}'
            ),
        },
    ]


def story_messages(topic: str, story: str) -> list[dict]:
    """The single-story prompt (STORY_VERSION): the brief point by point."""
    keys = ", ".join(f'"{key}": {{"answer": "yes" or "no", "reason": "..."}}' for key in CRITERIA)
    points = "; ".join(f"{key}: {text}" for key, text in CRITERIA.items())
    return [
        {
            "role": "system",
            "content": f"You are a strict judge of very short stories. {BRIEF}",
        },
        {
            "role": "user",
            "content": (
                f"Topic: {topic}\n\n[Story]\n{story}\n[End of story]\n\n"
                f"Does the story meet each point of the brief ({points})? Reply with JSON "
                f"only: {{{keys}}}"
            ),
        },
    ]


_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_WINNER = re.compile(r"winner\W{0,4}(1|2|tie)\b", re.IGNORECASE)


def _json_object(text: str) -> dict | None:
    match = _OBJECT.search(text or "")
    if not match:
        return None
    try:
        value = json.loads(match.group(0))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read_pair(text: str) -> tuple[str, str]:
    """("1" / "2" / "tie", reason) from a pairwise reply; ("", "") when it names no winner."""
    value = _json_object(text)
    if value is not None:
        winner = str(value.get("winner", "")).strip().lower().removeprefix("story ").strip()
        if winner in WINNERS:
            return winner, str(value.get("reason", ""))[:2000]
    match = _WINNER.search(text or "")
    if match:
        return match.group(1).lower(), (text or "")[:2000]
    return "", ""


def read_story(text: str) -> tuple[dict, bool | None]:
    """(answers, passed) from a single-story reply: answers maps each criterion to
    {"answer": True / False / None, "reason": ..., "label": the point of the brief}; passed
    is True when every criterion is yes, False when any is no, None when the reply could not
    be read."""
    value = _json_object(text) or {}
    answers = {}
    for key in CRITERIA:
        item = value.get(key)
        answer, reason = (
            (item.get("answer"), item.get("reason", "")) if isinstance(item, dict) else (item, "")
        )
        word = str(answer).strip().lower() if answer is not None else ""
        answers[key] = {
            "answer": True
            if word in ("yes", "true")
            else False
            if word in ("no", "false")
            else None,
            "reason": str(reason)[:500],
            "label": CRITERIA[key],
        }
    got = [a["answer"] for a in answers.values()]
    if None in got:
        return answers, (False if False in got else None)
    return answers, all(got)


def combine(ab: str, ba: str) -> str:
    """The judge's verdict on a pair from its two orders, each a winner ("a", "b", "tie", ""
    unreadable): a story wins only when it won in both orders; anything else is a tie (a
    winner that flips with the order was picked by position, not quality); "" when either
    order is unreadable."""
    if not ab or not ba:
        return ""
    return ab if ab == ba else "tie"
