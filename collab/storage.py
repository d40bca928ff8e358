"""Where the platform keeps uploaded files: a folder no public URL points at."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateFileStorage(FileSystemStorage):
    """Files under COLLAB_PRIVATE_ROOT, read only by permission-checked views.

    The location is read from settings on every use (not at import), and the storage has no
    URL: asking for one raises instead of exposing a path a web server might serve.
    """

    @property
    def base_location(self) -> str:
        return str(settings.COLLAB_PRIVATE_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; serve them through a permission check.")


_storage = PrivateFileStorage()


def private_storage() -> PrivateFileStorage:
    return _storage
