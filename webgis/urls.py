from django.contrib import admin
from django.urls import include, path

from webgis import views

urlpatterns = [
    path("", include("landing.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("map/", views.map_page, name="map"),
    path("tiles/<slug:layer>.json", views.tilejson, name="tilejson"),
    path("tiles/<slug:layer>/<str:z>/<str:x>/<str:y>.mvt", views.vector_tile, name="vector-tile"),
    path("", include("deposits.urls")),
    path("", include("layers.urls")),
    path("collab/", include("collab.urls")),
    path("admin/", admin.site.urls),
]
