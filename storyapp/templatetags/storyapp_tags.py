"""Filters every app's templates share."""

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """A time left as people say it: "under a minute", "about 35 min", "about 2 h 10 min"
    (an estimate: whole minutes, never raw seconds)."""
    if seconds is None or seconds == "":
        return ""
    minutes = round(float(seconds) / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
