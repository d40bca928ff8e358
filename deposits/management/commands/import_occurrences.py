from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deposits.mapping import MappingError, OccurrenceMapping
from deposits.services import OccurrenceImportError, OccurrenceImportReport, occurrence_import


class Command(BaseCommand):
    help = (
        "Import mineral occurrences from CSV (any delimiter), GeoJSON, GeoPackage or shapefile "
        "through a JSON column mapping (see fixtures/mappings/). Re-importing replaces the dataset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--mapping", type=Path, required=True, help="JSON column mapping")
        parser.add_argument("--layer", help="Layer name, for files with several")
        parser.add_argument("--srid", type=int, help="EPSG code, when the file declares no CRS")
        parser.add_argument("--unpublished", action="store_true", help="Import without publishing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            mapping = OccurrenceMapping.load(options["mapping"])
            report = occurrence_import(
                path=options["path"],
                mapping=mapping,
                layer=options["layer"],
                srid=options["srid"],
                publish=not options["unpublished"],
            )
        except (MappingError, OccurrenceImportError) as exc:
            raise CommandError(f"{exc} Nothing was imported.") from exc
        self.print_report(report)

    def print_report(self, report: OccurrenceImportReport) -> None:
        write = self.stdout.write
        write(f"Dataset {report.dataset}: read {report.read} rows, imported {report.imported}.")
        write(
            "By member state: " + ", ".join(f"{k} {v}" for k, v in report.by_member_state.items())
        )
        if report.rejected:
            write(self.style.WARNING(f"Rejected {len(report.rejected)} rows:"))
            for number, reason in report.rejected:
                write(f"  row {number}: {reason}")
        if report.outside_member_states:
            write(
                self.style.WARNING(
                    f"Not imported, outside the member states: {len(report.outside_member_states)} rows:"
                )
            )
            for number, reason in report.outside_member_states:
                write(f"  row {number}: {reason}")
        for kind, terms in report.unmapped_terms.items():
            write(self.style.WARNING(f"Unmapped {kind} terms (not in the vocabulary):"))
            for term, count in terms.most_common():
                write(f"  {term!r}: {count} rows")
