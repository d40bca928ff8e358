"""Every role × every resource × every surface, with the exact status code. What a user may not
see answers 404 and is absent from lists and tiles; responses holding unpublished data are private."""

import json
from typing import Any

import mapbox_vector_tile
import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.test import Client

from deposits.models import MemberState, MineralOccurrence
from layers.models import Dataset, DatasetKind, Upload, VectorFeature

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "registered", "editor_phl", "editor_idn", "reviewer", "admin"]
# Who sees an unpublished PHL dataset and a PHL survey's draft upload.
SEES_PHL_DRAFTS = {"editor_phl", "reviewer", "admin"}


@pytest.fixture
def admin(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ada-admin", password="x-unused-x"))
    return client


@pytest.fixture
def clients(
    anonymous: Client,
    registered: Client,
    editor_phl: Client,
    editor_idn: Client,
    reviewer: Client,
    admin: Client,
) -> dict[str, Client]:
    return {
        "anonymous": anonymous,
        "registered": registered,
        "editor_phl": editor_phl,
        "editor_idn": editor_idn,
        "reviewer": reviewer,
        "admin": admin,
    }


@pytest.fixture
def world(
    make_dataset: Any, make_occurrence: Any, phl_survey: Any, editor_phl_user: Any
) -> dict[str, Any]:
    phl = MemberState.objects.get(code="PHL")
    published = make_dataset(slug="phl-published", member_state=phl)
    draft = make_dataset(slug="phl-draft", member_state=phl, is_published=False)
    vector_draft = make_dataset(
        slug="phl-vector-draft", member_state=phl, is_published=False, kind=DatasetKind.VECTOR
    )
    VectorFeature.objects.create(
        dataset=vector_draft, attributes={"name": "secret"}, geom=Point(121.0, 15.0, srid=4326)
    )
    public_site = make_occurrence("Public site", lon=121.0, lat=15.0, dataset=published)
    draft_site = make_occurrence("Draft site", lon=121.01, lat=15.01, dataset=draft)
    import uuid

    upload = Upload.objects.create(
        id=uuid.uuid4(),
        organisation=phl_survey,
        created_by=editor_phl_user,
        target="occurrences",
        original_name="draft.csv",
        size_bytes=10,
        sha256="0" * 64,
        status="ready",
    )
    return {
        "published": published,
        "draft": draft,
        "vector_draft": vector_draft,
        "public_site": public_site,
        "draft_site": draft_site,
        "upload": upload,
    }


def expected(role: str, hidden: bool) -> int:
    return 200 if not hidden or role in SEES_PHL_DRAFTS else 404


SURFACES = {
    "occurrence page": (lambda w: f"/occurrences/{w['draft_site'].pk}/", True),
    "occurrence GeoJSON": (lambda w: f"/api/occurrences/{w['draft_site'].pk}/", True),
    "public occurrence page": (lambda w: f"/occurrences/{w['public_site'].pk}/", False),
    "public occurrence GeoJSON": (lambda w: f"/api/occurrences/{w['public_site'].pk}/", False),
    "draft dataset versions page": (lambda w: f"/datasets/{w['draft'].slug}/versions/", True),
    "published dataset versions page": (
        lambda w: f"/datasets/{w['published'].slug}/versions/",
        False,
    ),
    "draft vector layer tiles": (
        lambda w: f"/tiles/dataset-{w['vector_draft'].slug}/0/0/0.mvt",
        True,
    ),
    "draft vector layer TileJSON": (
        lambda w: f"/tiles/dataset-{w['vector_draft'].slug}.json",
        True,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_reading_surfaces(
    clients: dict[str, Client], world: dict[str, Any], role: str, surface: str
) -> None:
    url, hidden = SURFACES[surface]
    response = clients[role].get(url(world))
    assert response.status_code == expected(role, hidden)
    if hidden and response.status_code == 200:
        assert response["Cache-Control"].startswith("private")


UPLOAD_SURFACES = {
    "upload page": ("get", "/uploads/{id}/"),
    "upload status API": ("get", "/api/uploads/{id}/"),
    "upload preview": ("get", "/api/uploads/{id}/preview.geojson"),
    "publish": ("post", "/uploads/{id}/publish"),
    "discard": ("post", "/uploads/{id}/discard"),
    "retry": ("post", "/uploads/{id}/retry"),
}
# Sign-in is required for uploads (302 to the sign-in page); seeing is for the survey and reviewers;
# acting is for the survey's editors (reviewers publish nothing: 403).
UPLOAD_EXPECTED = {
    "anonymous": 302,
    "registered": 404,
    "editor_idn": 404,
    "editor_phl": {"get": 200, "post": 302},
    "reviewer": {"get": 200, "post": 403},
    "admin": {"get": 200, "post": 302},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", sorted(UPLOAD_SURFACES))
def test_upload_surfaces(
    clients: dict[str, Client], world: dict[str, Any], role: str, surface: str
) -> None:
    method, template = UPLOAD_SURFACES[surface]
    url = template.format(id=world["upload"].pk)
    response = getattr(clients[role], method)(url)
    want = UPLOAD_EXPECTED[role]
    assert response.status_code == (want[method] if isinstance(want, dict) else want)


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_tiles_hold_only_what_the_role_may_see(
    clients: dict[str, Client], world: dict[str, Any], role: str
) -> None:
    client = clients[role]
    names = sorted(
        f["properties"]["name"]
        for f in json.loads(client.get("/api/occurrences/").content)["features"]
    )
    tile = client.get("/tiles/occurrences/12/3424/1875.mvt")
    tile_names = sorted(
        f["properties"].get("name", "")
        for f in mapbox_vector_tile.decode(tile.content).get("occurrences", {}).get("features", [])
    )
    layers = set(client.get("/map/").context["map_config"]["layers"])
    search = [
        r["name"]
        for r in json.loads(client.get("/api/occurrences/search", {"q": "site"}).content)["results"]
    ]
    ogc = json.loads(client.get("/ogc/collections", {"f": "json"}).content)
    collections = {c["id"] for c in ogc["collections"]}
    catalogue = json.dumps(json.loads(client.get("/catalogue/", {"f": "json"}).content))

    if role in SEES_PHL_DRAFTS:
        assert names == ["Draft site", "Public site"]
        assert "Draft site" in tile_names
        assert f"dataset-{world['vector_draft'].slug}" in layers
        assert sorted(search) == ["Draft site", "Public site"]
        assert world["vector_draft"].slug in collections
        assert world["draft"].slug in catalogue
    else:
        assert names == ["Public site"]
        assert "Draft site" not in tile_names
        assert f"dataset-{world['vector_draft'].slug}" not in layers
        assert search == ["Public site"]
        assert world["vector_draft"].slug not in collections
        assert world["draft"].slug not in catalogue
    # Anyone who may see some unpublished data (any editor) gets private tiles; the public, shared ones.
    assert tile["Cache-Control"].startswith(
        "private" if role in {*SEES_PHL_DRAFTS, "editor_idn"} else "public"
    )


def test_the_draft_is_in_the_tile_used_by_the_matrix(
    clients: dict[str, Client], world: dict[str, Any]
) -> None:
    # Guards the matrix above: the tile it reads really covers both sites.
    tile = clients["reviewer"].get("/tiles/occurrences/12/3424/1875.mvt")
    features = mapbox_vector_tile.decode(tile.content)["occurrences"]["features"]
    assert MineralOccurrence.objects.count() == 2
    assert len(features) == 2
    assert Dataset.objects.filter(is_published=False).count() == 2
