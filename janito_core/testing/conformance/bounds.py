"""How long the suite waits, and the config every driver it builds starts from."""

from __future__ import annotations

from typing import Any

#: Seconds a stream may take to end after a cancel, and a worker thread to exit after its
#: stream ended. Generous: a correct driver needs milliseconds; a wrong one hangs for good.
PROMPTLY = 2.0
#: Seconds after which a generation that has not ended is cancelled and the test fails, so a
#: broken driver fails the suite instead of hanging it.
DEADLINE = 20.0
#: The Retry-After the retry test sends: small for speed, fractional so it is clearly honoured
#: rather than rounded to a back-off of the driver's own.
RETRY_AFTER_SECONDS = 0.25

#: The read timeout of the tests that wait one out: small for speed, large enough that a busy
#: machine does not trip it where the server is not silent.
READ_TIMEOUT = 0.5
#: Seconds between the two writes that carry the halves of one character, so the client reads
#: them apart.
SPLIT_GAP = 0.05

#: Config every driver of the suite is built with (before a test's own): quick back-off, and a
#: read timeout that ends a stuck request well before ``DEADLINE``.
DRIVER_DEFAULTS: dict[str, Any] = {"retry_base_delay": 0.01, "timeout": 10.0}
