from typing import Any

from django import forms

from layers.ingest.pipeline import CRS_CHOICES, ENCODING_CHOICES
from layers.models import AuditAction, Dataset, Organisation, PublishMode, UploadTarget


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="A zipped shapefile (.shp .shx .dbf .prj, and .cpg if you have it), a GeoPackage, "
        "GeoJSON, CSV/text with coordinate columns, or a GeoTIFF."
    )
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), empty_label=None)
    target = forms.ChoiceField(choices=UploadTarget.choices, label="What the file holds")
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.none(),
        required=False,
        label="New version of",
        help_text="Leave empty to create a new dataset.",
    )
    mode = forms.ChoiceField(choices=PublishMode.choices, initial=PublishMode.REPLACE)
    title = forms.CharField(max_length=300, required=False, help_text="For a new dataset.")
    licence = forms.CharField(max_length=200, required=False, initial="CC BY 4.0")
    abstract = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, organisations: Any, datasets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]
        self.fields["dataset"].queryset = datasets  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("dataset") and not data.get("title"):
            self.add_error("title", "Give the new dataset a title, or choose a dataset to update.")
        dataset = data.get("dataset")
        organisation = data.get("organisation")
        if dataset and organisation and dataset.member_state_id != organisation.member_state_id:
            self.add_error("dataset", "This dataset belongs to another member state.")
        return data


class OptionsForm(forms.Form):
    """The editor's answers to the report's questions; every value is checked against a list."""

    layer = forms.CharField(required=False, max_length=200)
    srid = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(str(k), f"EPSG:{k} — {v}") for k, v in CRS_CHOICES.items()],
        label="Coordinate reference system",
    )
    encoding = forms.ChoiceField(
        required=False, choices=[("", "—"), *ENCODING_CHOICES.items()], label="Text encoding"
    )

    def __init__(
        self,
        *args: Any,
        layers: list[str],
        columns: list[str],
        mapping_fields: list[dict[str, Any]],
        chosen: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if layers:
            self.fields["layer"] = forms.ChoiceField(
                required=False, choices=[("", "—"), *[(x, x) for x in layers]]
            )
        column_choices = [("", "— not in the file —"), *[(c, c) for c in columns]]
        self.mapping_names = []
        for field in mapping_fields:
            name = f"map_{field['name']}"
            self.mapping_names.append(name)
            self.fields[name] = forms.ChoiceField(
                required=False,
                choices=column_choices,
                label=field["label"] + (" *" if field["required"] else ""),
                initial=chosen.get(field["name"], ""),
            )

    def mapping_choices(self) -> dict[str, str]:
        return {
            name.removeprefix("map_"): self.cleaned_data.get(name) or ""
            for name in self.mapping_names
        }


class AuditFilterForm(forms.Form):
    """The audit trail's filters (layers.selectors.audit_entries), from the query string."""

    action = forms.ChoiceField(choices=[("", "All"), *AuditAction.choices], required=False)
    dataset = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "slug or title"}),
    )
    actor = forms.CharField(max_length=150, required=False, label="Username")
