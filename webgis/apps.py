from django.apps import AppConfig


class WebgisConfig(AppConfig):
    name = "webgis"
    verbose_name = "AMDIS"
