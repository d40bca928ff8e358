from django.urls import path

from collab import signin, views

app_name = "collab"

urlpatterns = [
    path("", views.home, name="overview"),
    # Sign-in
    path("login/", signin.login_view, name="login"),
    path("login/verify/", signin.verify_view, name="verify"),
    path("login/enrol/", signin.enrol_view, name="enrol"),
    path("logout/", signin.logout_view, name="logout"),
    path("invitation/<str:token>/", signin.invitation_accept_view, name="invitation-accept"),
    path("account/", views.account, name="account"),
    path("account/recovery-codes/", signin.recovery_codes_view, name="recovery-codes"),
    # The plan
    path("plan/", views.plan_view, name="plan-current"),
    path("plan/<slug:code>/", views.plan_view, name="plan"),
    path("action-lines/<int:pk>/", views.action_line_view, name="action-line"),
    path("action-lines/<int:pk>/comments/", views.comment_action_line, name="action-line-comment"),
    # Monitoring
    path("reports/", views.report_list, name="reports"),
    path("reports/new/", views.report_new, name="report-new"),
    path("reports/<int:pk>/", views.report_view, name="report"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report-edit"),
    path("reports/<int:pk>/submit/", views.report_submit, name="report-submit"),
    path("reports/<int:pk>/review/", views.report_review, name="report-review"),
    path("reports/<int:pk>/evidence/", views.evidence_add, name="evidence-add"),
    path("reports/<int:pk>/comments/", views.comment_report, name="report-comment"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence-delete"),
    path("dashboard/", views.dashboard_view, name="dashboard-current"),
    path("dashboard/<slug:code>/", views.dashboard_view, name="dashboard"),
    path("exports/<slug:code>/quarterly/", views.export_quarterly, name="export-quarterly"),
    path("exports/<slug:code>/<slug:kind>-review/", views.export_review, name="export-review"),
    # Document library
    path("library/", views.library, name="library"),
    path("library/folders/new/", views.folder_new, name="folder-new"),
    path("library/folders/<int:pk>/", views.folder_view, name="folder"),
    path("library/folders/<int:pk>/edit/", views.folder_edit, name="folder-edit"),
    path("library/folders/<int:pk>/upload/", views.document_new, name="document-new"),
    path("library/documents/<int:pk>/", views.document_view, name="document"),
    path("library/documents/<int:pk>/download/", views.document_download, name="document-download"),
    path("library/documents/<int:pk>/versions/", views.version_new, name="version-new"),
    path("library/documents/<int:pk>/delete/", views.document_delete, name="document-delete"),
    path("library/documents/<int:pk>/comments/", views.comment_document, name="document-comment"),
    path("library/versions/<int:pk>/download/", views.version_download, name="version-download"),
    # Discussion and notice
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment-delete"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    # Administration
    path("people/", views.people, name="people"),
    path("people/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("audit/", views.audit_log, name="audit"),
]
