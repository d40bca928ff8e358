from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from landing.services import IndicatorImportError, indicators_import

MAX_ERRORS_SHOWN = 100


class Command(BaseCommand):
    help = (
        "Import indicator values (trade, production, economy) from CSV in the long format "
        "documented in landing/indicator_file.py, or from a file of a known layout such as the "
        "Our World in Data metal production subset. Any bad row and nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = indicators_import(path=options["path"])
        except IndicatorImportError as exc:
            for number, reason in exc.errors[:MAX_ERRORS_SHOWN]:
                self.stderr.write(f"  row {number}: {reason}")
            if len(exc.errors) > MAX_ERRORS_SHOWN:
                self.stderr.write(f"  ... and {len(exc.errors) - MAX_ERRORS_SHOWN} more rows.")
            raise CommandError(f"{exc} Nothing was imported.") from exc
        self.stdout.write(
            f"Read {report.rows_read} rows ({report.layout}): {report.created} figures added, "
            f"{report.updated} replaced."
        )
        for code, count in sorted(report.by_indicator.items()):
            self.stdout.write(f"  {code}: {count}")
        for name in report.new_sources:
            self.stdout.write(
                self.style.WARNING(
                    f"New source {name!r}: add its citation and licence in the admin."
                )
            )
