"""The overview: counts per stage, review activity, scores and agreement."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..approval import Policy
from ..dashboard import dashboard_data
from ..gates import GatePolicy
from ..models import Review


@require_GET
@permission_required("curation.view_story", raise_exception=True)
def dashboard(request):
    data = dashboard_data()
    peak = max([row["n"] for row in data["per_day"]] + [1])
    per_day = [
        {**row, "height": (h := round(100 * row["n"] / peak)), "y": 100 - h, "x": i * 14}
        for i, row in enumerate(data["per_day"])
    ]
    top = max([row["n"] for row in data["distribution"]] + [1])
    distribution = [
        {**row, "width": round(300 * row["n"] / top), "y": (row["score"] - 1) * 24}
        for row in data["distribution"]
    ]
    return render(
        request,
        "curation/dashboard.html",
        {
            **data,
            "per_day_bars": per_day,
            "per_day_width": max(len(per_day) * 14, 14),
            "distribution_bars": distribution,
            "policy": Policy.current().describe(),
            "gates": GatePolicy.current().describe(),
            "axes": list(Review.AXIS_LABELS.items()),
        },
    )
