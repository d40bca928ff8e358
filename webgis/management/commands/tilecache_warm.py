"""`manage.py tilecache_warm [--max-zoom N]`: draws every public layer's tiles over the member
states into the tile cache, as the job after each publish does (webgis/lib/tilewarm.py): after a
restore from backup, or a deploy with an empty cache. Tiles already cached are left."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webgis.lib import tilecache, tilewarm


class Command(BaseCommand):
    help = "Draw the public layers' tiles over the member states into the tile cache."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-zoom",
            type=int,
            default=None,
            help="deepest zoom drawn (default TILE_WARM_MAX_ZOOM)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not tilecache.enabled():
            raise CommandError("The tile cache is off (TILE_CACHE=0): there is nothing to warm.")
        deepest = options["max_zoom"] if options["max_zoom"] is not None else tilewarm.max_zoom()
        if options["max_zoom"] is None and deepest < 0:
            raise CommandError(
                "Warming after a publish is off (TILE_WARM_MAX_ZOOM=-1):"
                " give --max-zoom N to warm by hand."
            )
        if not 0 <= deepest <= 22:
            raise CommandError(f"--max-zoom must be from 0 to 22; got {deepest}.")
        warmed = tilewarm.warm(deepest)
        if not warmed.layers:
            self.stdout.write("No member state has a boundary yet: no region to warm.")
        for name, layer in warmed.layers.items():
            note = " (stopped: its data changed meanwhile)" if layer.stopped else ""
            self.stdout.write(
                f"{name}: {layer.rendered} tile(s) drawn, {layer.present} already cached{note}"
            )
