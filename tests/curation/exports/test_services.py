import pytest
from django.core.exceptions import ValidationError

from curation.exports import services
from curation.models import DatasetExport
from tests.curation.exports.support import approved_story, run_export


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": "Bad Name"}, "export_name_invalid"),
        ({"name": "ok", "fmt": "xml"}, "export_format_invalid"),
        ({"name": "ok", "val_fraction": 1.0}, "val_fraction_range"),
        ({"name": "ok", "min_score": 9}, "min_score_range"),
        ({"name": "ok", "themes": [999999]}, "theme_missing"),
        ({"name": "ok", "models": ["nobody"]}, "export_empty"),
    ],
)
def test_bad_options_are_refused_with_codes(kwargs, code):
    approved_story()
    with pytest.raises(ValidationError) as excinfo:
        services.export_create(enqueue=False, **kwargs)
    assert code in [e.code for e in excinfo.value.error_list]
    assert not DatasetExport.objects.exists()


@pytest.mark.django_db
def test_a_release_name_cannot_be_reused():
    approved_story()
    run_export("once")
    with pytest.raises(ValidationError) as excinfo:
        services.export_create(name="once", enqueue=False)
    assert excinfo.value.error_list[0].code == "export_exists"
