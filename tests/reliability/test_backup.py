"""One command backs up the database and media; another restores a complete working instance
into an empty cluster; the restored instance serves the same data."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from layers import services
from layers.models import Upload
from tests.reliability.cluster import temporary_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def manage(*args: str, database_url: str, media: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, DATABASE_URL=database_url, MEDIA_ROOT=str(media), SECURE_SSL_REDIRECT="0"
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_backup_and_restore_into_an_empty_cluster(
    reference_data: None, editor_phl_user: Any, phl_survey: Any, shared_data: Path, tmp_path: Path
) -> None:
    # Data of every kind: occurrences with a published version, a raster in MEDIA_ROOT.
    csv = b"name,lon,lat,commodity\nTampakan,125.05,6.48,Cu\nDidipio,121.46,16.33,Au\n"
    for name, content, target in [
        ("a.csv", csv, "occurrences"),
        (
            "geoid.tif",
            (shared_data / "raster_egm96_geoid" / "egm96_geoid_seasia.tif").read_bytes(),
            "raster",
        ),
    ]:
        upload = services.upload_create(
            user=editor_phl_user,
            organisation=phl_survey,
            file=SimpleUploadedFile(name, content),
            target=target,
            dataset_fields={"title": name},
        )
        services.upload_publish_request(
            user=editor_phl_user, upload=Upload.objects.get(pk=upload.pk)
        )
    archive = tmp_path / "backup" / "amdis.tar"

    call_command("backup", str(archive))

    assert archive.is_file()
    db = connection.settings_dict
    source_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with temporary_cluster() as cluster:
        restored_media = tmp_path / "restored-media"
        result = manage("restore", str(archive), database_url=cluster.url, media=restored_media)
        assert result.returncode == 0, result.stderr
        assert "Restored" in result.stdout

        # Same rows, same version snapshots, same media files, and the instance answers.
        assert cluster.psql("SELECT count(*) FROM deposits_mineraloccurrence") == "2"
        # Every version snapshot of the source (earlier tests may have left some) is restored.
        snapshots = (
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'dataset_versions'"
        )
        with connection.cursor() as cursor:
            cursor.execute(snapshots)
            (source_snapshots,) = cursor.fetchone()
        assert source_snapshots >= 1
        assert cluster.psql(snapshots) == str(source_snapshots)
        media_files = sorted(
            p.relative_to(settings.MEDIA_ROOT)
            for p in Path(settings.MEDIA_ROOT).rglob("*")
            if p.is_file()
        )
        assert media_files
        assert (
            sorted(p.relative_to(restored_media) for p in restored_media.rglob("*") if p.is_file())
            == media_files
        )
        probe = manage(
            "shell",
            "-c",
            "from django.test import Client; print(Client(HTTP_HOST='localhost').get('/api/occurrences/').content.decode())",
            database_url=cluster.url,
            media=restored_media,
        )
        assert probe.returncode == 0, probe.stderr
        body = probe.stdout.strip().splitlines()[-1]
        assert body.startswith("{"), probe.stdout[-2000:]
        names = sorted(f["properties"]["name"] for f in json.loads(body)["features"])
        assert names == ["Didipio", "Tampakan"]
        # A second restore over the now-full database is refused.
        again = manage("restore", str(archive), database_url=cluster.url, media=restored_media)
        assert again.returncode != 0 and "not empty" in again.stderr
    assert source_url  # the source database was untouched by the restore


def test_backup_refuses_to_overwrite(reference_data: None, tmp_path: Path) -> None:
    existing = tmp_path / "old.tar"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(existing))
    assert existing.read_bytes() == b"keep me"


def test_restore_refuses_a_file_that_is_not_a_backup(reference_data: None, tmp_path: Path) -> None:
    import tarfile

    bogus = tmp_path / "bogus.tar"
    with tarfile.open(bogus, "w") as archive:
        archive.add(__file__, arcname="something.py")
    with pytest.raises(CommandError, match=r"not empty|not an AMDIS backup"):
        call_command("restore", str(bogus))


def test_the_backup_leaves_out_the_tile_cache(
    reference_data: None, tmp_path: Path, settings: Any
) -> None:
    import tarfile

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TILE_CACHE_DIR = ""
    (tmp_path / "media" / "uploads").mkdir(parents=True)
    (tmp_path / "media" / "uploads" / "kept.txt").write_text("survey file")
    (tmp_path / "media" / "tilecache" / "occurrences" / "v1").mkdir(parents=True)
    (tmp_path / "media" / "tilecache" / "occurrences" / "v1" / "0.mvt").write_bytes(b"tile")
    target = tmp_path / "backup.tar"

    call_command("backup", str(target))

    with tarfile.open(target) as archive:
        names = archive.getnames()
    assert "media/uploads/kept.txt" in names
    assert not any(name.startswith("media/tilecache") for name in names), names
