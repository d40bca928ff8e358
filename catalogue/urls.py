from django.urls import path

from catalogue import api, views

_collection = "ogc/collections/<str:collection_id>"

urlpatterns = [
    path("ogc/", api.landing, name="ogc-landing"),
    path("ogc/conformance", api.conformance, name="ogc-conformance"),
    path("ogc/api", api.api_document, name="ogc-api"),
    path("ogc/collections", api.collections, name="ogc-collections"),
    path(_collection, api.collection, name="ogc-collection"),
    path(f"{_collection}/queryables", api.queryables, name="ogc-queryables"),
    path(f"{_collection}/items", api.items, name="ogc-items"),
    path(f"{_collection}/items/<str:feature_id>", api.item, name="ogc-item"),
    path(f"{_collection}/tiles", api.tilesets, name="ogc-tilesets"),
    path(f"{_collection}/tiles/<str:tms_id>", api.tileset, name="ogc-tileset"),
    path(f"{_collection}/tiles/<str:tms_id>/<str:z>/<str:y>/<str:x>", api.tile, name="ogc-tile"),
    path("ogc/tileMatrixSets", api.tile_matrix_sets, name="ogc-tile-matrix-sets"),
    path("ogc/tileMatrixSets/<str:tms_id>", api.tile_matrix_set_view, name="ogc-tile-matrix-set"),
    path("catalogue/", views.catalogue_search_view, name="catalogue"),
    path("catalogue/<slug:slug>/", views.dataset_view, name="catalogue-dataset"),
    path("catalogue/<slug:slug>/iso19139.xml", views.dataset_iso19139, name="catalogue-iso19139"),
    path("downloads/jobs/<uuid:job_id>", views.download_job, name="download-job"),
    path("downloads/jobs/<uuid:job_id>/file", views.download_job_file, name="download-job-file"),
    path("downloads/<str:collection_id>/", views.download_form, name="download-form"),
    path("downloads/<str:collection_id>/<str:fmt>", views.download, name="download"),
]
