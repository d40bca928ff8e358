"""The admin's delete confirmation for objects that millions of rows may refer to.

Django's admin builds its "are you sure?" page by collecting every object the delete would touch,
including those a PROTECT foreign key refuses, and lists each one: a commodity named by two
million occurrence links, or a member state with a million occurrences, would have all of them
loaded into the web process and written into the page, which would not finish. These objects
are vocabulary: while anything refers to them they cannot be deleted at all (every reference is
PROTECT). So the page counts the references, one `count(*)` per relation, and shows them as
what protects the object; the delete (page or bulk action) is then refused, as Django refuses
any protected delete. An object nothing refers to is deleted as Django always does.
"""

from collections.abc import Iterable
from typing import Any, cast

from django.db import models
from django.db.models import Count, ForeignObjectRel
from django.http import HttpRequest


def reference_counts(objs: Iterable[models.Model]) -> dict[Any, list[tuple[str, int]]]:
    """For each object (by primary key) with references: (what refers, how many rows), over
    every relation Django's delete collects (hidden ones too, e.g. a many-to-many's links).
    One grouped `count(*)` a relation, whatever the number of objects."""
    objs = list(objs)
    found: dict[Any, list[tuple[str, int]]] = {}
    if not objs:
        return found
    for relation in objs[0]._meta.get_fields(include_hidden=True):
        # The reverse side of a foreign key (or one-to-one) to these objects; a many-to-many is
        # counted through its links' foreign key.
        if not isinstance(relation, ForeignObjectRel) or relation.many_to_many:
            continue
        model = cast(type[models.Model], relation.related_model)
        field = relation.field
        what = f"{model._meta.verbose_name_plural} ({field.name})"
        rows = (
            model._base_manager.filter(**{f"{field.name}__in": objs})
            .values_list(field.attname)
            .annotate(n=Count("*"))
            .order_by()
        )
        for pk, count in rows:
            found.setdefault(pk, []).append((what, count))
    return found


class ReferenceCountedDelete:
    """ModelAdmin mixin: the delete confirmation counts the rows that refer to the objects
    instead of listing them, and a referred-to object is protected (not deleted)."""

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[str]]:
        objs = list(objs)
        references = reference_counts(objs)
        protected = [
            f"{obj}: {count:,} {what}" for obj in objs for what, count in references.get(obj.pk, [])
        ]
        if protected:
            return [str(obj) for obj in objs], {}, set(), protected
        return super().get_deleted_objects(objs, request)  # type: ignore[misc]
