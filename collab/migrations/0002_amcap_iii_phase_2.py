"""Loads AMCAP-III Phase 2 (fixtures/collab/amcap-iii-phase2.json) so a new database has the plan.

Self-contained on purpose (historical models, its own loop): later changes to the service
`plan_load` or to the fixture's loader must not change what this migration does.
"""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "collab" / "amcap-iii-phase2.json"


def load(apps, schema_editor):
    WorkingGroup = apps.get_model("collab", "WorkingGroup")
    Plan = apps.get_model("collab", "Plan")
    ProgrammeArea = apps.get_model("collab", "ProgrammeArea")
    Strategy = apps.get_model("collab", "Strategy")
    ActionLine = apps.get_model("collab", "ActionLine")
    Milestone = apps.get_model("collab", "Milestone")
    MemberState = apps.get_model("deposits", "MemberState")

    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    groups = {}
    for row in data["working_groups"]:
        groups[row["code"]], _ = WorkingGroup.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"]}
        )
    spec = data["plan"]
    if Plan.objects.filter(code=spec["code"]).exists():
        return
    plan = Plan.objects.create(
        code=spec["code"],
        name=spec["name"],
        start_year=spec["start_year"],
        end_year=spec["end_year"],
        mid_term_year=spec["mid_term_year"],
        final_term_year=spec["final_term_year"],
        summary=spec.get("summary", ""),
    )
    for m in spec.get("milestones", []):
        Milestone.objects.create(plan=plan, year=m["year"], quarter=m.get("quarter"), title=m["title"])
    for a_pos, area_spec in enumerate(spec["programme_areas"]):
        area = ProgrammeArea.objects.create(
            plan=plan,
            code=area_spec["code"],
            name=area_spec["name"],
            focus=area_spec.get("focus", ""),
            position=a_pos,
        )
        for s_pos, strategy_spec in enumerate(area_spec["strategies"]):
            strategy = Strategy.objects.create(
                programme_area=area, code=strategy_spec["code"], title=strategy_spec["title"], position=s_pos
            )
            for l_pos, line_spec in enumerate(strategy_spec["action_lines"]):
                lead = line_spec.get("lead_country")
                line = ActionLine.objects.create(
                    strategy=strategy,
                    code=line_spec["code"],
                    title=line_spec["title"],
                    working_group=groups[line_spec.get("working_group") or area_spec["working_group"]],
                    lead_country=MemberState.objects.filter(code=lead).first() if lead else None,
                    position=l_pos,
                )
                for m in line_spec.get("milestones", []):
                    Milestone.objects.create(
                        plan=plan,
                        action_line=line,
                        year=m["year"],
                        quarter=m.get("quarter"),
                        title=m["title"],
                        target_percent=m.get("target_percent"),
                    )


class Migration(migrations.Migration):
    dependencies = [("collab", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
