"""Limits come from settings; GDAL runs with network access and sidecar reading turned off."""

from pathlib import Path

import pyogrio
import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings as SettingsWrapper

from layers.ingest.limits import Limits
from layers.ingest.safety import gdal_safe_env
from tests.layers.ingest import hostile
from tests.layers.ingest.test_geojson import POINT, Listener


def test_limits_are_read_from_settings(settings: SettingsWrapper) -> None:
    settings.INGEST_MAX_ENTRIES = 10
    settings.UPLOAD_MAX_BYTES = 1234

    limits = Limits.from_settings()

    assert (limits.max_entries, limits.max_upload_bytes) == (10, 1234)
    assert limits.max_layers == Limits().max_layers


@pytest.mark.parametrize("value", [0, -5, "100", True])
def test_a_bad_limit_setting_is_a_configuration_error(
    settings: SettingsWrapper, value: object
) -> None:
    settings.INGEST_MAX_LAYERS = value

    with pytest.raises(ImproperlyConfigured, match="INGEST_MAX_LAYERS"):
        Limits.from_settings()


def test_gdal_makes_no_request_inside_the_safe_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line of defence: even a crs link that reached GDAL would not be fetched."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    listener = Listener()
    crs = {
        "type": "link",
        "properties": {"href": f"http://127.0.0.1:{listener.port}/x", "type": "ogcwkt"},
    }
    path = tmp_path / "link.geojson"
    path.write_bytes(hostile.feature_collection([hostile.feature(POINT)], crs=crs))

    with gdal_safe_env():
        pyogrio.read_info(path)

    assert listener.close() == 0


def test_the_safe_env_restores_the_previous_gdal_config() -> None:
    before = pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY")

    with gdal_safe_env():
        assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") == "127.0.0.1:9"
        assert pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX") == "NO"

    assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") == before
