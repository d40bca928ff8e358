"""`manage.py tilecache_prune [--max-mb N] [--clear]`: drops the tile cache's old versions and
keeps it under TILE_CACHE_MAX_MB (oldest files first). Safe to run while the site serves."""

import shutil
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from webgis.lib import tilecache


class Command(BaseCommand):
    help = "Delete stale tile versions and keep the tile cache under its size cap."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-mb",
            type=int,
            default=None,
            help=f"size cap in MB (default TILE_CACHE_MAX_MB, now {settings.TILE_CACHE_MAX_MB})",
        )
        parser.add_argument("--clear", action="store_true", help="delete the whole cache")

    def handle(self, *args: Any, **options: Any) -> None:
        base = tilecache.root()
        if options["clear"]:
            shutil.rmtree(base, ignore_errors=True)
            self.stdout.write(f"Tile cache {base} cleared.")
            return
        stale = tilecache.prune_stale()
        cap_mb = options["max_mb"] if options["max_mb"] is not None else settings.TILE_CACHE_MAX_MB
        deleted, left = tilecache.prune_to_size(cap_mb * 1024 * 1024)
        self.stdout.write(
            f"Tile cache {base}: {stale} stale version(s) removed, {deleted} file(s) deleted"
            f" for the {cap_mb} MB cap, {left / 1024 / 1024:.1f} MB left."
        )
