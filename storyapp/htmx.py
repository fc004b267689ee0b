"""One URL serves a page and its fragment: the page for a normal request (or a boosted one),
the named partial for an htmx request. Polling fragments stop htmx polling with HTTP 286."""

from django.shortcuts import render

# htmx stops polling an element when its response has this status.
HTMX_STOP_POLLING = 286


def render_page(
    request, template: str, context: dict, *, partial: str, status: int = 200, finished=False
):
    """Render ``template``, or ``template#partial`` for an htmx request.

    ``finished``: the fragment shows something that will not change any more, so its polling
    stops (286). A full page is never 286.
    """
    if request.htmx and not request.htmx.boosted:
        response = render(request, f"{template}#{partial}", context, status=status)
        if finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, template, context, status=status)
