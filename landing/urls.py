from django.urls import path

from landing import views

urlpatterns = [
    path("", views.home, name="home"),
    path("charts/<slug:slug>.csv", views.chart_csv, name="landing-chart-csv"),
    path("countries/", views.country_list, name="country-list"),
    path("countries/<str:code>/", views.country_profile, name="country"),
    path(
        "countries/<str:code>/charts/<slug:slug>.csv",
        views.chart_csv,
        name="landing-profile-chart-csv",
    ),
]
