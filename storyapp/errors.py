"""One way to turn validation errors into the text shown to people (messages, 400 pages)."""

from django.core.exceptions import ValidationError
from django.shortcuts import render


def form_errors_text(form, *, with_fields: bool = False) -> str:
    """Every error of a bound form in one line, optionally prefixed by its field name."""
    if with_fields:
        return " ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
    return " ".join(error for errors in form.errors.values() for error in errors)


def validation_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def bad_request(request, message: str):
    """The 400 page with a sentence saying what was wrong with the request."""
    return render(request, "400.html", {"message": message}, status=400)
