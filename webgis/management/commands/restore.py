"""`manage.py restore FILE`: a complete working instance from a `manage.py backup` archive,
into the (empty) database named by DATABASE_URL and the MEDIA_ROOT folder."""

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from webgis.lib.pgtools import pg_env, pg_tool
from webgis.management.commands.backup import table_counts


class Command(BaseCommand):
    help = "Restore the database and media files from a backup archive into an empty instance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="Restore over a database that has tables"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["path"]
        if not source.is_file():
            raise CommandError(f"No backup archive at {source}.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            (tables,) = cursor.fetchone() or (0,)
        if tables and not options["force"]:
            raise CommandError(
                "The target database is not empty; restore into an empty one, or pass --force."
            )
        connection.close()
        with tempfile.TemporaryDirectory() as work, tarfile.open(source) as archive:
            names = archive.getnames()
            if "database.dump" not in names or "manifest.json" not in names:
                raise CommandError(
                    f"{source} is not an AMDIS backup (no database.dump / manifest.json)."
                )
            archive.extractall(work, filter="data")  # refuses absolute paths, '..' and links out
            manifest = json.loads((Path(work) / "manifest.json").read_text())
            result = subprocess.run(
                [
                    pg_tool("pg_restore"),
                    "--no-owner",
                    "--clean",
                    "--if-exists",
                    "--exit-on-error",
                    "--dbname",
                    settings.DATABASES["default"]["NAME"],
                    str(Path(work) / "database.dump"),
                ],
                env=pg_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()[-2000:]}")
            media_source = Path(work) / "media"
            if media_source.is_dir():
                shutil.copytree(media_source, settings.MEDIA_ROOT, dirs_exist_ok=True)
        counts = table_counts()
        if counts != manifest["counts"]:
            raise CommandError(
                f"Restored counts differ from the backup: {counts} != {manifest['counts']}"
            )
        self.stdout.write(f"Restored {source}: {counts}")
