from django.urls import path

from layers import raster_views

urlpatterns = [
    path("tiles/raster/<slug:layer>.json", raster_views.raster_tilejson, name="raster-tilejson"),
    path(
        "tiles/raster/<slug:layer>/<str:z>/<str:x>/<str:y>.png",
        raster_views.raster_tile,
        name="raster-tile",
    ),
    path("api/rasters/", raster_views.raster_list, name="api-rasters"),
    path("api/rasters/<slug:layer>/", raster_views.raster_detail, name="api-raster"),
    path("api/rasters/<slug:layer>/point", raster_views.raster_point, name="api-raster-point"),
]
