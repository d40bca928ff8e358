"""`manage.py backup FILE`: the database (pg_dump, custom format) and MEDIA_ROOT in one tar."""

import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from webgis.lib.pgtools import pg_env, pg_tool

# Counted into the manifest, and checked again after a restore.
COUNTED_TABLES = (
    "deposits_mineraloccurrence",
    "deposits_occurrencecommodity",
    "deposits_memberstate",
    "layers_dataset",
    "layers_datasetversion",
    "layers_geologicalunit",
    "layers_structure",
    "layers_vectorfeature",
    "layers_rasterlayer",
    "layers_upload",
    "auth_user",
)


def table_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in COUNTED_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


class Command(BaseCommand):
    help = "Back up the database and the media files into one archive (restore with `manage.py restore`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", type=Path, help="Archive to write, e.g. backups/amdis-2026-11-28.tar"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["path"]
        if target.exists():
            raise CommandError(f"{target} exists; choose a new file name.")
        target.parent.mkdir(parents=True, exist_ok=True)
        media = Path(settings.MEDIA_ROOT)
        from webgis.lib import tilecache

        def tile_cache_dir() -> Path:
            return Path(tilecache.root()).resolve()

        with tempfile.TemporaryDirectory() as work:
            dump = Path(work) / "database.dump"
            result = subprocess.run(
                [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump)],
                env=pg_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
            manifest = {
                "created_at": timezone.now().isoformat(),
                "counts": table_counts(),
                "format": 1,
            }
            partial = target.with_suffix(target.suffix + ".partial")
            with tarfile.open(partial, "w") as archive:
                archive.add(dump, arcname="database.dump")
                if media.is_dir():
                    # The tile cache is derived data, rebuilt on demand: never worth archiving.
                    cache = tile_cache_dir()
                    archive.add(
                        media,
                        arcname="media",
                        filter=lambda member: (
                            None
                            if (media / member.name.partition("/")[2]).resolve() == cache
                            else member
                        ),
                    )
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            partial.rename(target)  # a half-written archive never has the final name
        self.stdout.write(
            f"Backed up to {target} ({target.stat().st_size:,} bytes): {manifest['counts']}"
        )
