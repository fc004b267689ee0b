"""One way to turn validation errors into the text shown to people (messages, 400 pages)."""

from django.core.exceptions import ValidationError
from django.shortcuts import render


def form_errors_text(form, *, with_fields: bool = False) -> str:
    """Every error of a bound form in one line, optionally prefixed by the field's label as
    the page shows it ("Or these ids: ...", not the internal name)."""
    if with_fields:
        return " ".join(
            f"{_label(form, field)}: {' '.join(errs)}" for field, errs in form.errors.items()
        )
    return " ".join(error for errors in form.errors.values() for error in errors)


def _label(form, field: str) -> str:
    if field in form.fields:
        return str(form[field].label)
    return field if field != "__all__" else "Form"


def validation_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def bad_request(request, message: str):
    """The 400 page with a sentence saying what was wrong with the request."""
    return render(request, "400.html", {"message": message}, status=400)
