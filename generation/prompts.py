"""The default prompts (the seed's two prompt functions) and how templates are rendered.

Placeholders: ``{theme}`` and ``{n_topics}`` for topics, ``{topic}`` for stories. Only these are
substituted, in one pass, so braces in a theme name or in a template's prose are left alone.
"""

import re
from types import SimpleNamespace

from django.core.exceptions import ValidationError

PLACEHOLDERS = {"topics": ("theme", "n_topics"), "story": ("topic",)}
REQUIRED = {"topics": ("theme",), "story": ("topic",)}
_PLACEHOLDER = re.compile(r"\{(theme|n_topics|topic)\}")
_ANY_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

TOPICS_SYSTEM = """You are a chatbot that provides story topics for users.

For example:
<User>: Please give me a summary of a story.

Response:

1. An ugly dragon seeking the crystal of the forest.
2. A fairy with a desire to feast on carnivorous plants.
3. A space mermaid carrying a fan.
4. A mummy harboring dreams of becoming a Hollywood star.
5. A samurai who fell in love with a fish.

Now it's your turn. Please respond in English in a creative and innovative manner. The more \
unique and different, the better.
Your answer must be in topics like above. Do not give titles for your stories!"""

TOPICS_USER = (
    'Invent a completely new story summary about "{theme}". Provide {n_topics} possibilities.'
)

STORY_SYSTEM = """You are a chatbot tasked with creating stories for users.

Your stories must be short, they CANNOT be long, which means your stories must have only TWO \
paragraphs of small size.
Ensure each story has a clear conclusion and well-defined characters!"""

STORY_USER = 'Invent a completely new story about "{topic}".'


def _seed_raw(system: str, user: str, gap: str) -> str:
    """The seed's literal ``[INST] <<SYS>>`` text around a system and user part, its
    indentation included (tests pin it to the seed's prompt functions, byte for byte)."""
    first, *rest = system.split("\n")
    body = first + "".join("\n    " + line for line in rest)
    return f"\n    [INST]:<<SYS>>{body}<<SYS>>\n    \n    <<User>>: {user}{gap}[/INST]\n    "


# create_topics_prompt (with {n_topics} for the seed's 7) and create_story_prompt.
TOPICS_RAW = _seed_raw(TOPICS_SYSTEM, TOPICS_USER, " ")
STORY_RAW = _seed_raw(STORY_SYSTEM, STORY_USER, "")

DEFAULTS = {
    "topics": {"system": TOPICS_SYSTEM, "user": TOPICS_USER, "raw": TOPICS_RAW},
    "story": {"system": STORY_SYSTEM, "user": STORY_USER, "raw": STORY_RAW},
}


def fill(text: str, values: dict) -> str:
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def render_messages(template, values: dict) -> list[dict]:
    """Chat messages (system, user) for a template and its placeholder values."""
    return [
        {"role": "system", "content": fill(template.system, values)},
        {"role": "user", "content": fill(template.user, values)},
    ]


def default_messages(kind: str, values: dict) -> list[dict]:
    """The messages the default (version 1) template of ``kind`` renders for ``values``."""
    return render_messages(SimpleNamespace(**DEFAULTS[kind]), values)


def render_raw(template, values: dict) -> str:
    return fill(template.raw, values)


def template_problems(kind: str, parts: dict[str, str]) -> list[ValidationError]:
    """Placeholders a new template version is missing or does not support."""
    errors = []
    allowed = set(PLACEHOLDERS[kind])
    for part, text in parts.items():
        for name in _ANY_PLACEHOLDER.findall(text):
            if name not in allowed:
                errors.append(
                    ValidationError(
                        "%(part)s uses {%(name)s}; %(kind)s templates know only %(allowed)s.",
                        code="template_unknown_placeholder",
                        params={
                            "part": part,
                            "name": name,
                            "kind": kind,
                            "allowed": ", ".join(f"{{{a}}}" for a in sorted(allowed)),
                        },
                    )
                )
    for name in REQUIRED[kind]:
        token = f"{{{name}}}"
        if token not in parts.get("user", "") + parts.get("system", ""):
            errors.append(
                ValidationError(
                    "The system or user part must contain %(token)s.",
                    code="template_missing_placeholder",
                    params={"token": token},
                )
            )
        if token not in parts.get("raw", ""):
            errors.append(
                ValidationError(
                    "The raw text must contain %(token)s.",
                    code="template_missing_placeholder",
                    params={"token": token},
                )
            )
    return errors
