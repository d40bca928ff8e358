from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from deposits.models import MemberState
from prospectivity.models import ProspectivityRun
from prospectivity.services import prospectivity_map_publish


class Command(BaseCommand):
    help = (
        "Publish a finished prospectivity run as a raster dataset with its prospectivity metadata."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "run", help="Run id (from /prospectivity/ or /api/prospectivity/runs/<id>/)"
        )
        parser.add_argument("--slug", required=True)
        parser.add_argument("--title", required=True)
        parser.add_argument("--licence", default="CC BY 4.0")
        parser.add_argument("--member-state", help="ISO alpha-3 of the member state the map covers")
        parser.add_argument("--publish", action="store_true", help="Make it public at once")

    def handle(self, *args: Any, **options: Any) -> None:
        run = ProspectivityRun.objects.filter(pk=options["run"]).first()
        if run is None:
            raise CommandError(f"No prospectivity run {options['run']!r}.")
        fields: dict[str, Any] = {}
        if options["member_state"]:
            state = MemberState.objects.filter(code=options["member_state"].upper()).first()
            if state is None:
                raise CommandError(f"Unknown member state {options['member_state']!r}.")
            fields["member_state"] = state
        try:
            dataset = prospectivity_map_publish(
                run=run,
                slug=options["slug"],
                title=options["title"],
                licence=options["licence"],
                is_published=options["publish"],
                **fields,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except IntegrityError as exc:
            raise CommandError(
                f"A dataset with the slug {options['slug']!r} exists; choose another."
            ) from exc
        outcome = (
            "published" if dataset.is_published else "saved unpublished (publish it in the admin)"
        )
        self.stdout.write(f"Prospectivity map {dataset.slug} {outcome}.")
