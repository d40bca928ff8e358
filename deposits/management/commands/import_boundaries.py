from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deposits.services import boundaries_import, reference_data_load
from webgis.lib.vector_files import FileReadError


class Command(BaseCommand):
    help = (
        "Load member-state boundaries from an admin-0 file: shapefile (zipped or not), "
        "GeoPackage, GeoJSON or TopoJSON. Countries are matched by ISO code or name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--layer", help="Layer or TopoJSON object name, if the file has several"
        )
        parser.add_argument("--srid", type=int, help="EPSG code, when the file declares no CRS")

    def handle(self, *args: Any, **options: Any) -> None:
        reference_data_load()
        try:
            report = boundaries_import(
                path=options["path"], srid=options["srid"], layer=options["layer"]
            )
        except FileReadError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Loaded boundaries for {len(report.loaded)} member states: {', '.join(report.loaded)}"
        )
        if report.missing:
            self.stdout.write(
                self.style.WARNING(f"Not found in the file: {', '.join(report.missing)}")
            )
