"""Pieces of the story and topic lists rendered in Python: a list page draws them once per
row, where a template include or a loop body costs a context and a lookup per variable (a
page of 50 stories spent most of its time there). Every value from the database is escaped
here (html.escape, quotes included); ids and counts are formatted as integers."""

from html import escape

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from ..gates import CHECKS

register = template.Library()

REPAIRED_TITLE = (
    "Ended on its own in more paragraphs; re-paragraphed into two, nothing dropped. "
    "The original is kept."
)
AUTO_REJECTED_TITLE = "Rejected by the quality gates; an admin can reverse it on the story's page"
URL_SLOT = 987654321


def _topic_head(topic) -> str:
    theme = topic.theme
    theme_badge = (
        f' <span class="badge warn">theme {escape(theme.get_status_display().lower())}</span>'
        if theme.status != "approved"
        else ""
    )
    topic_badge = (
        f' <span class="badge{" warn" if topic.status == "rejected" else ""}">topic '
        f"{escape(topic.get_status_display().lower())}</span>"
        if topic.status != "approved"
        else ""
    )
    return (
        f'<span class="topic-head"><small class="muted">{escape(theme.name)}{theme_badge}'
        f'</small><br><span class="topic-text">{escape(topic.text)}</span>{topic_badge}</span>'
    )


def _story_badges(story) -> str:
    parts = []
    if story.auto_rejected:
        parts.append(
            f'<span class="badge warn" title="{escape(AUTO_REJECTED_TITLE)}">auto-rejected</span>'
        )
    failed = [check.label.lower() for check in CHECKS.values() if check.fails(story)]
    parts.extend(f'<span class="badge warn">{escape(label)}</span>' for label in failed)
    if not failed:
        parts.append('<span class="badge ok">checks pass</span>')
    if story.auto_edited_text:
        parts.append(
            f'<span class="badge" title="{escape(REPAIRED_TITLE)}">repaired from '
            f"{story.original_paragraph_count or 0:d} ¶</span>"
        )
    return f'<span class="badges">{"".join(parts)}</span>'


def _snippet(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


@register.simple_tag
def topic_head(topic) -> SafeString:
    """The theme (with its status when not approved) over the topic text (with its status
    when not approved)."""
    return mark_safe(_topic_head(topic))  # noqa: S308  # escaped in _topic_head


@register.simple_tag
def story_badges(story) -> SafeString:
    """The gates' verdict on a story: auto-rejected, each failed check, repaired."""
    return mark_safe(_story_badges(story))  # noqa: S308  # escaped in _story_badges


@register.filter
def snippet(text: str, length: int) -> str:
    """The first ``length`` characters, with an ellipsis when cut (truncatechars without its
    per-character scan; the template escapes the result)."""
    return _snippet(text, length)


@register.simple_tag
def story_rows(stories) -> SafeString:
    """The story browser's table rows: id, theme and topic, snippet, badges, reviews, mean
    score, status."""
    url = reverse("curation:story_detail", args=[URL_SLOT])
    rows = []
    for story in stories:
        mean = "—" if story.mean_overall is None else f"{story.mean_overall:.2f}"
        rows.append(
            f'<tr><td><a href="{url.replace(str(URL_SLOT), str(int(story.pk)))}">{story.pk:d}'
            f"</a></td><td>{_topic_head(story.topic)}</td>"
            f'<td class="story-snippet">{escape(_snippet(story.judged_text, 160))}</td>'
            f"<td>{_story_badges(story)}</td><td>{story.review_count:d}</td><td>{mean}</td>"
            f'<td><span class="status {escape(story.status)}">'
            f"{escape(story.get_status_display())}</span></td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308  # every value escaped above


@register.simple_tag
def theme_options(themes, selected) -> SafeString:
    """The <option>s of a theme picker (id and name read as plain values, not models; the
    names escaped here: a picker of hundreds of themes is drawn on every page of a list)."""
    return mark_safe(  # noqa: S308  # every name is escaped, the ids are integers
        "".join(
            f'<option value="{pk:d}"{" selected" if pk == selected else ""}>{escape(name)}</option>'
            for pk, name in themes.values_list("pk", "name")
        )
    )


@register.simple_tag
def sample_badges(sample) -> SafeString:
    """The automatic verdicts on an evaluation story: passed as written or not, each failed
    check (on the text as written), repaired, and usable after the repair."""
    parts = [
        '<span class="badge ok">passed as written</span>'
        if sample.passed
        else '<span class="badge warn">failed as written</span>'
    ]
    for check in CHECKS.values():
        try:
            failed = check.fails(sample)
        except AttributeError:  # a check on a field stories have and samples do not
            continue
        if failed:
            parts.append(f'<span class="badge warn">{escape(check.label.lower())}</span>')
    if sample.repaired:
        parts.append(f'<span class="badge" title="{escape(REPAIRED_TITLE)}">repaired</span>')
    if not sample.passed:
        parts.append(
            '<span class="badge ok">usable after repair</span>'
            if sample.usable
            else '<span class="badge warn">not usable</span>'
        )
    return mark_safe(f'<span class="badges">{"".join(parts)}</span>')  # noqa: S308


@register.simple_tag(takes_context=True)
def release_link(context, release) -> SafeString:
    """A link to a release: its page for those who may download it, otherwise its lineage
    (what it made), so no link on a page answers 403."""
    if release is None:
        return mark_safe("")
    user = context.get("user")
    if user is not None and user.has_perm("curation.download_export"):
        url = release.get_absolute_url()
    else:
        try:
            url = reverse("training:release_lineage", args=[release.name])
        except NoReverseMatch:
            return mark_safe(escape(release.name))  # noqa: S308
    return mark_safe(f'<a href="{escape(url)}">{escape(release.name)}</a>')  # noqa: S308
