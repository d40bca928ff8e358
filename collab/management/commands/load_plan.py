import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from collab.services import plan_load

DEFAULT = Path(settings.BASE_DIR) / "fixtures" / "collab" / "amcap-iii-phase2.json"


class Command(BaseCommand):
    help = (
        "Load (or update) an action plan from a JSON fixture: working groups, programme areas, "
        "strategies, action lines and milestones. Milestones added in the admin are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            plan = plan_load(data=data)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(
                f"Cannot load the plan from {path}: {exc!r}. Nothing changed."
            ) from exc
        from collab.models import ActionLine, Strategy

        strategies = Strategy.objects.filter(programme_area__plan=plan).count()
        lines = ActionLine.objects.filter(strategy__programme_area__plan=plan).count()
        self.stdout.write(
            f"{plan.name}: {plan.programme_areas.count()} programme areas, {strategies} "
            f"strategies, {lines} action lines, {plan.milestones.count()} milestones."
        )
