from django.apps import AppConfig


class ProspectivityConfig(AppConfig):
    name = "prospectivity"
    verbose_name = "Prospectivity"
