from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collab.models import Role, WorkingGroup
from collab.services import invitation_create
from deposits.models import MemberState


class Command(BaseCommand):
    help = (
        "Invite someone to the collaboration platform and print the one-time link (it is also "
        "e-mailed). Use it for the first Secretariat administrator; later ones are invited from "
        "the platform's People page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values, default=Role.SECRETARIAT.value)
        parser.add_argument("--member-state", help="ISO3 code; required for a focal point")
        parser.add_argument("--working-group", action="append", default=[], help="e.g. WGMID")
        parser.add_argument("--organisation", default="")
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Scheme and host for the link"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        state = None
        if options["member_state"]:
            state = MemberState.objects.filter(code=options["member_state"].upper()).first()
            if state is None:
                raise CommandError(f"No member state {options['member_state']!r}.")
        if options["role"] == Role.FOCAL_POINT and state is None:
            raise CommandError("A focal point needs --member-state.")
        groups = list(WorkingGroup.objects.filter(code__in=options["working_group"]))
        if len(groups) != len(set(options["working_group"])):
            raise CommandError("Unknown working group; see the admin for the codes.")
        _invitation, link = invitation_create(
            actor=None,
            email=options["email"],
            role=Role(options["role"]),
            member_state=state,
            working_groups=groups,
            organisation=options["organisation"],
            base_url=options["base_url"].rstrip("/"),
        )
        self.stdout.write(link)
