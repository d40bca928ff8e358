from django.urls import path

from deposits import api, views

urlpatterns = [
    path("api/occurrences/", api.occurrences_list, name="api-occurrences"),
    path("api/occurrences/search", api.occurrence_search, name="api-occurrence-search"),
    path("api/occurrences/<int:pk>/", api.occurrence_detail, name="api-occurrence"),
    path("api/vocabularies/", api.vocabularies, name="api-vocabularies"),
    path("occurrences/<int:pk>/", views.occurrence_page, name="occurrence"),
]
