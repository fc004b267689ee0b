"""The overview: counts per stage, review activity, scores and agreement."""

from datetime import timedelta

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from storyapp.charts import bar_chart

from ..approval import Policy
from ..dashboard import dashboard_data
from ..gates import GatePolicy
from ..models import Review

PER_DAY_DAYS = 30


@require_GET
@permission_required("curation.view_story", raise_exception=True)
def dashboard(request):
    data = dashboard_data()
    # Every one of the last 30 days has its bar, zero included: one day of reviews is one bar
    # among thirty, dated and counted, not a block filling the chart.
    by_day = {row["day"]: row["n"] for row in data["per_day"]}
    today = timezone.localdate()
    days = [today - timedelta(days=back) for back in range(PER_DAY_DAYS - 1, -1, -1)]
    return render(
        request,
        "curation/dashboard.html",
        {
            **data,
            "per_day_chart": bar_chart(
                [(day.strftime("%b %-d"), by_day.get(day.isoformat(), 0)) for day in days],
                title=f"Reviews per day, last {PER_DAY_DAYS} days",
                x_label="Day",
                y_label="Reviews",
            )
            if data["per_day"]
            else "",
            "distribution_chart": bar_chart(
                [(str(row["score"]), row["n"]) for row in data["distribution"]],
                title="Reviews by overall score",
                x_label="Overall score",
                y_label="Reviews",
            ),
            "policy": Policy.current().describe(),
            "gates": GatePolicy.current().describe(),
            "axes": list(Review.AXIS_LABELS.items()),
        },
    )
