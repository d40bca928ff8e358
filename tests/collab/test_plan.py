import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from collab.models import ActionLine, Milestone, Plan, ProgrammeArea, Strategy, WorkingGroup
from collab.services import plan_load

pytestmark = pytest.mark.django_db

FIXTURE = settings.BASE_DIR / "fixtures" / "collab" / "amcap-iii-phase2.json"
EXPECTED_CODES = (
    [f"TI{s}.{n}" for s, count in ((1, 3), (2, 3), (3, 2)) for n in range(1, count + 1)]
    + [f"ES{s}.{n}" for s, count in ((1, 3), (2, 2), (3, 2)) for n in range(1, count + 1)]
    + [f"IH{s}.{n}" for s in (1, 2, 3) for n in (1, 2, 3)]
    + [f"MD{s}.{n}" for s in (1, 2) for n in (1, 2, 3)]
)


def test_the_migration_loads_the_thirty_action_lines(plan: Plan) -> None:
    codes = list(
        ActionLine.objects.filter(strategy__programme_area__plan=plan)
        .order_by("strategy__programme_area__position", "strategy__position", "position")
        .values_list("code", flat=True)
    )
    assert codes == EXPECTED_CODES
    assert len(codes) == 30


def test_each_programme_area_has_its_working_group(plan: Plan) -> None:
    expected = {"TI": "WGTIM", "ES": "WGSMD", "IH": "WGCBM", "MD": "WGMID"}
    for line in ActionLine.objects.filter(strategy__programme_area__plan=plan):
        assert line.working_group.code == expected[line.code[:2]], line.code


def test_the_plan_has_its_areas_strategies_and_review_years(plan: Plan) -> None:
    assert (plan.start_year, plan.end_year) == (2021, 2025)
    assert (plan.mid_term_year, plan.final_term_year) == (2023, 2025)
    assert list(plan.programme_areas.values_list("code", flat=True)) == ["TIM", "SMD", "CBM", "MID"]
    assert Strategy.objects.filter(programme_area__plan=plan).count() == 11
    assert WorkingGroup.objects.count() == 4


def test_the_plan_milestones_include_both_reviews(plan: Plan) -> None:
    titles = list(plan.milestones.filter(action_line__isnull=True).values_list("year", "quarter"))
    assert (2023, 4) in titles and (2025, 4) in titles


def test_loading_the_plan_again_changes_nothing_and_keeps_admin_milestones(plan: Plan) -> None:
    added = Milestone.objects.create(
        plan=plan,
        action_line=ActionLine.objects.get(code="MD1.3"),
        year=2022,
        title="Scoping done",
        target_percent=20,
    )
    counts = (ProgrammeArea.objects.count(), ActionLine.objects.count(), Milestone.objects.count())
    out = StringIO()
    call_command("load_plan", stdout=out)
    assert "30 action lines" in out.getvalue()
    assert (
        ProgrammeArea.objects.count(),
        ActionLine.objects.count(),
        Milestone.objects.count(),
    ) == counts
    assert Milestone.objects.filter(pk=added.pk).exists()


def test_a_next_plan_loads_beside_the_current_one(plan: Plan) -> None:
    data = json.loads(FIXTURE.read_text())
    data["plan"].update(
        code="amcap-iv-phase-1", name="AMCAP-IV Phase 1", start_year=2026, end_year=2030,
        mid_term_year=2028, final_term_year=2030, milestones=[],
    )  # fmt: skip
    data["plan"]["programme_areas"] = data["plan"]["programme_areas"][:1]
    new = plan_load(data=data)
    assert Plan.objects.count() == 2
    assert ActionLine.objects.filter(strategy__programme_area__plan=new).count() == 8
    assert ActionLine.objects.filter(strategy__programme_area__plan=plan).count() == 30


def test_the_plan_page_lists_every_action_line(sara, plan: Plan) -> None:
    response = sara.client.get("/collab/plan/")
    assert response.status_code == 200
    for code in EXPECTED_CODES:
        assert code.encode() in response.content
