from django.urls import path

from prospectivity import views

urlpatterns = [
    path("prospectivity/", views.modeller_page, name="prospectivity"),
    path("api/prospectivity/options", views.options_api, name="api-prospectivity-options"),
    path("api/prospectivity/runs/", views.runs_api, name="api-prospectivity-runs"),
    path("api/prospectivity/runs/<uuid:pk>/", views.run_api, name="api-prospectivity-run"),
    path("api/prospectivity/runs/<uuid:pk>/point", views.run_point, name="api-prospectivity-point"),
    path("prospectivity/runs/<uuid:pk>/recipe.json", views.run_recipe, name="prospectivity-recipe"),
    path(
        "prospectivity/runs/<uuid:pk>/result.tif", views.run_geotiff, name="prospectivity-geotiff"
    ),
    path(
        "tiles/prospectivity/<uuid:pk>/<str:z>/<str:x>/<str:y>.png",
        views.run_tile,
        name="prospectivity-tile",
    ),
]
