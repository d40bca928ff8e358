"""The app's URLs, unchanged, plus the baseline that AMDIS's GeoJSON API is measured against."""

from django.urls import path

from bench.drf_baseline import OccurrenceListView
from webgis.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/drf/occurrences/", OccurrenceListView.as_view(), name="bench-drf-occurrences"),
    *app_urlpatterns,
]
