"""Builds the feature blocks (catalogue.blocks) of every published dataset that lacks current
ones: after a restore of the database, or to warm them at once instead of page by page."""

from typing import Any

from django.core.management.base import BaseCommand

from catalogue.blocks import blocks_build_all


class Command(BaseCommand):
    help = "Build the OGC API feature blocks of every published dataset whose blocks are missing or stale."

    def handle(self, *args: Any, **options: Any) -> None:
        built = blocks_build_all()
        for slug, blocks in built.items():
            state = f"{blocks} blocks built" if blocks else "current already (or no features)"
            self.stdout.write(f"{slug}: {state}")
        self.stdout.write(
            self.style.SUCCESS(f"{sum(1 for b in built.values() if b)} datasets built")
        )
