import pytest
from django.core.management import call_command

from deposits.models import MineralOccurrence
from layers.models import Dataset, GeologicalUnit, Structure

pytestmark = pytest.mark.django_db


def test_demo_data_is_marked_demo_and_covers_the_region(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_demo")

    demo = Dataset.objects.filter(is_demo=True)
    assert demo.count() == 4  # occurrences, geology, structures, a prospectivity map
    assert all(d.is_published for d in demo)
    occurrences = MineralOccurrence.objects.filter(dataset__is_demo=True)
    assert occurrences.values("member_state").distinct().count() == 11
    assert GeologicalUnit.objects.count() > 50
    assert Structure.objects.count() > 10
    assert "Loaded 11 member states" in capsys.readouterr().out


def test_a_second_run_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_demo")
    before = list(MineralOccurrence.objects.order_by("id").values_list("id", "name"))

    call_command("load_demo")

    assert list(MineralOccurrence.objects.order_by("id").values_list("id", "name")) == before
    assert "already loaded" in capsys.readouterr().out


def test_the_demo_is_reproducible() -> None:
    call_command("load_demo")
    first = sorted(MineralOccurrence.objects.values_list("name", "status"))

    call_command("load_demo", "--force")

    assert sorted(MineralOccurrence.objects.values_list("name", "status")) == first
