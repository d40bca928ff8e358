from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deposits.models import MemberState
from deposits.services import (
    DEMO_OCCURRENCES_SLUG,
    boundaries_import,
    demo_occurrences_create,
    reference_data_load,
)
from layers.models import Dataset
from layers.services import demo_geology_create
from prospectivity.services import demo_prospectivity_map_create

# Natural Earth 1:10m countries, shipped by the npm package world-atlas (installed at set-up).
WORLD_ATLAS = Path(settings.BASE_DIR) / "node_modules" / "world-atlas" / "countries-10m.json"


class Command(BaseCommand):
    help = "Load reference data and the demonstration data set, once (use --force to reload)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Regenerate the demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        states, commodities = reference_data_load()
        if Dataset.objects.filter(slug=DEMO_OCCURRENCES_SLUG).exists() and not options["force"]:
            self.stdout.write("Demo data already loaded (use --force to regenerate).")
            return
        if not MemberState.objects.filter(boundary__isnull=False).exists() or options["force"]:
            if not WORLD_ATLAS.exists():
                raise CommandError(
                    f"{WORLD_ATLAS} is missing: run `make setup` (npm install) first."
                )
            boundaries_import(path=WORLD_ATLAS)
        occurrences = demo_occurrences_create()
        units, structures = demo_geology_create()
        prospectivity = demo_prospectivity_map_create()
        self.stdout.write(
            f"Loaded {states} member states, {commodities} commodities and demo data: "
            f"{occurrences} occurrences, {units} geological units, {structures} structures"
            + (", a prospectivity map." if prospectivity else ".")
        )
