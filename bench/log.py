"""Progress lines on stderr, so stdout stays free for results."""

import sys
import time

_STARTED = time.monotonic()


def log(message: str) -> None:
    print(
        f"\033[1m[bench {time.monotonic() - _STARTED:6.1f}s]\033[0m {message}",
        file=sys.stderr,
        flush=True,
    )
