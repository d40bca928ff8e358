from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CollabConfig(AppConfig):
    default = True
    name = "collab"
    verbose_name = "AMCAP collaboration platform"


class SecondFactorAdminConfig(admin_apps.AdminConfig):
    """The Django admin, reachable only after the same two-factor sign-in as the platform."""

    default = False
    default_site = "collab.admin_site.SecondFactorAdminSite"
