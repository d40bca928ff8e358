from django.contrib import admin
from django.urls import include, path

from webgis import views

# Every failure outside a view's own handling: the site's page, or JSON for API clients.
handler400 = "webgis.error_pages.bad_request"
handler403 = "webgis.error_pages.permission_denied"
handler404 = "webgis.error_pages.page_not_found"
handler500 = "webgis.error_pages.server_error"

urlpatterns = [
    path("", include("landing.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switcher
    path("map/", views.map_page, name="map"),
    path("tiles/<slug:layer>.json", views.tilejson, name="tilejson"),
    path("tiles/<slug:layer>/<str:z>/<str:x>/<str:y>.mvt", views.vector_tile, name="vector-tile"),
    path("", include("deposits.urls")),
    path("", include("layers.urls")),
    path("", include("catalogue.urls")),
    path("", include("layers.raster_urls")),
    path("", include("prospectivity.urls")),
    path("collab/", include("collab.urls")),
    path("admin/", admin.site.urls),
]
