from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Open data access: OGC API, downloads and the metadata catalogue"
