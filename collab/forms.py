"""Input forms: they parse and validate; the services write."""

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from collab.models import (
    ActionLine,
    Folder,
    ImplementationStatus,
    Quarter,
    ReviewState,
    Role,
    WorkingGroup,
)
from collab.permissions import Actor
from collab.selectors import action_lines_open, folders_visible
from collab.uploads import ACCEPT_ATTRIBUTE, CheckedFile, UploadRejected, upload_check
from deposits.models import MemberState
from layers.models import Dataset
from layers.selectors import datasets_visible

MAX_TEXT = 20_000


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        help_text="The six digits your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Code from the app",
        error_messages={"invalid": "Enter the six digits the app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class InvitationAcceptForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]{3,150}$",
        max_length=150,
        help_text="3 to 150 letters, digits and . @ + - _",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("This username is taken; choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            probe = User(username=data.get("username", ""), email=self.email)
            try:
                validate_password(first, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    member_state = forms.ModelChoiceField(
        queryset=MemberState.objects.order_by("name"),
        required=False,
        help_text="Required for a focal point.",
    )
    working_groups = forms.ModelMultipleChoiceField(
        queryset=WorkingGroup.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    organisation = forms.CharField(max_length=200, required=False)

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email, is_active=True).exists():
            raise ValidationError("Someone with this e-mail address is a member already.")
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == Role.FOCAL_POINT and not data.get("member_state"):
            self.add_error("member_state", "A focal point needs a member state.")
        return data


class ReportForm(forms.Form):
    """A quarterly progress report; the period and action line are fixed once created."""

    action_line = forms.ModelChoiceField(queryset=ActionLine.objects.none())
    year = forms.TypedChoiceField(coerce=int, choices=())
    quarter = forms.TypedChoiceField(coerce=int, choices=Quarter.choices)
    status = forms.ChoiceField(choices=ImplementationStatus.choices)
    percent_complete = forms.IntegerField(min_value=0, max_value=100, label="Percent complete")
    narrative = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What was done this quarter, what is next, any difficulties.",
    )
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.none(),
        required=False,
        label="WebGIS datasets",
        help_text="Datasets in the WebGIS that this work produced or used.",
    )
    evidence = forms.FileField(
        required=False,
        label="Evidence (optional)",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )

    def __init__(self, *args: Any, actor: Actor, fixed_period: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = date.today()
        line_field = self.fields["action_line"]
        assert isinstance(line_field, forms.ModelChoiceField)
        line_field.queryset = action_lines_open()
        year_field = self.fields["year"]
        assert isinstance(year_field, forms.TypedChoiceField)
        year_field.choices = [(y, str(y)) for y in range(today.year, 2015, -1)]
        datasets_field = self.fields["datasets"]
        assert isinstance(datasets_field, forms.ModelMultipleChoiceField)
        datasets_field.queryset = datasets_visible(user=actor.user).order_by("title")
        self.checked_evidence: CheckedFile | None = None
        if fixed_period:
            for name in ("action_line", "year", "quarter"):
                del self.fields[name]

    def clean_evidence(self) -> Any:
        upload = self.cleaned_data.get("evidence")
        if upload:
            try:
                self.checked_evidence = upload_check(upload)
            except UploadRejected as exc:
                raise ValidationError(str(exc)) from exc
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status, percent = data.get("status"), data.get("percent_complete")
        if status == ImplementationStatus.COMPLETED and percent is not None and percent != 100:
            self.add_error("percent_complete", "A completed action line is 100% complete.")
        if status == ImplementationStatus.NOT_STARTED and percent:
            self.add_error("percent_complete", "An action line not started is 0% complete.")
        line, year, quarter = data.get("action_line"), data.get("year"), data.get("quarter")
        if isinstance(line, ActionLine) and year:
            plan = line.strategy.programme_area.plan
            if not plan.start_year <= year <= plan.end_year:
                self.add_error(
                    "year", f"{plan.name} runs from {plan.start_year} to {plan.end_year}."
                )
        if (
            year
            and quarter
            and (year, quarter) > (date.today().year, (date.today().month - 1) // 3 + 1)
        ):
            self.add_error("quarter", "This quarter has not started yet.")
        return data


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(ReviewState.ACCEPTED, "Accept"), (ReviewState.RETURNED, "Return for revision")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when returning the report.",
    )
    shared_with_observers = forms.BooleanField(
        required=False, label="Share with observers (dialogue partners) once accepted"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == ReviewState.RETURNED and not data.get("note", "").strip():
            self.add_error("note", "Say what needs to change.")
        return data


class _CheckedUploadForm(forms.Form):
    file = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            self.checked = upload_check(upload)
        except UploadRejected as exc:
            raise ValidationError(str(exc)) from exc
        return upload


class EvidenceForm(_CheckedUploadForm):
    pass


class VersionForm(_CheckedUploadForm):
    note = forms.CharField(max_length=300, required=False, help_text="What changed.")


class DocumentForm(_CheckedUploadForm):
    title = forms.CharField(max_length=300)
    description = forms.CharField(
        max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    tags = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. workshop, geoscience"
    )
    field_order = ["title", "description", "tags", "file"]

    def clean_tags(self) -> list[str]:
        raw: str = self.cleaned_data.get("tags", "")
        tags = []
        for tag in raw.split(","):
            tag = " ".join(tag.split()).lower()[:50]
            if tag and tag not in tags:
                tags.append(tag)
        return tags[:20]


class FolderForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    parent = forms.ModelChoiceField(queryset=Folder.objects.none(), required=False)
    working_group = forms.ModelChoiceField(queryset=WorkingGroup.objects.all(), required=False)
    read_roles = forms.MultipleChoiceField(
        choices=[c for c in Role.choices if c[0] != Role.SECRETARIAT],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Roles that may read",
    )
    read_groups = forms.ModelMultipleChoiceField(
        queryset=WorkingGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Working groups that may read",
    )
    upload_roles = forms.MultipleChoiceField(
        choices=[
            (Role.FOCAL_POINT.value, Role.FOCAL_POINT.label),
            (Role.WORKING_GROUP.value, Role.WORKING_GROUP.label),
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Roles that may add documents",
    )
    upload_groups = forms.ModelMultipleChoiceField(
        queryset=WorkingGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Working groups that may add documents",
    )

    def __init__(
        self, *args: Any, actor: Actor, folder: Folder | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.folder = folder
        parent_field = self.fields["parent"]
        assert isinstance(parent_field, forms.ModelChoiceField)
        parents = folders_visible(actor=actor)
        if folder is not None:
            parents = parents.exclude(pk=folder.pk)
        parent_field.queryset = parents

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        parent = data.get("parent")
        name = data.get("name")
        same_name = Folder.objects.filter(parent=parent, name=name)
        if self.folder is not None:
            same_name = same_name.exclude(pk=self.folder.pk)
        if name and same_name.exists():
            self.add_error("name", "A folder with this name is there already.")
        return data


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=5000, label="Comment", widget=forms.Textarea(attrs={"rows": 3})
    )


class LibrarySearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Search the library")


class ReportFilterForm(forms.Form):
    member_state = forms.ModelChoiceField(
        queryset=MemberState.objects.order_by("name"), required=False
    )
    review_state = forms.ChoiceField(
        choices=[("", "Any state"), *ReviewState.choices], required=False
    )
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)


class QuarterForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(coerce=int, choices=Quarter.choices)
