from django.urls import path

from layers import views

urlpatterns = [
    path("uploads/", views.upload_list, name="upload-list"),
    path("uploads/new/", views.upload_new, name="upload-new"),
    path("uploads/<uuid:pk>/", views.upload_detail, name="upload-detail"),
    path("uploads/<uuid:pk>/options", views.upload_options, name="upload-options"),
    path("uploads/<uuid:pk>/publish", views.upload_publish, name="upload-publish"),
    path("uploads/<uuid:pk>/retry", views.upload_retry, name="upload-retry"),
    path("uploads/<uuid:pk>/discard", views.upload_discard, name="upload-discard"),
    path("api/uploads/<uuid:pk>/", views.upload_status_api, name="api-upload"),
    path(
        "api/uploads/<uuid:pk>/preview.geojson", views.upload_preview_api, name="api-upload-preview"
    ),
    path("datasets/<slug:slug>/versions/", views.dataset_versions, name="dataset-versions"),
    path(
        "datasets/<slug:slug>/versions/<int:number>/restore",
        views.dataset_version_restore,
        name="dataset-version-restore",
    ),
    path("audit/", views.audit_trail, name="audit"),
]
