"""``DriverConformanceTests``: the standard tests of every mixin, in one class to subclass."""

from __future__ import annotations

from janito_core.testing.conformance.aio import AsyncTests
from janito_core.testing.conformance.attachments import AttachmentTests
from janito_core.testing.conformance.cancel import CancelTests
from janito_core.testing.conformance.errors import ErrorTests
from janito_core.testing.conformance.streams import StreamTests
from janito_core.testing.conformance.structured import StructuredOutputTests
from janito_core.testing.conformance.text import TextTests
from janito_core.testing.conformance.tools import ToolTests


# Listed last to first: pytest collects a class's bases in reverse MRO, so the tests run text
# first and asyncio last, as they always have.
class DriverConformanceTests(
    StructuredOutputTests,
    AttachmentTests,
    AsyncTests,
    CancelTests,
    StreamTests,
    ErrorTests,
    ToolTests,
    TextTests,
    standard=True,
):
    """Base class of a driver's conformance tests: set ``adapter`` to a ``WireAdapter``.

    Fixtures: ``server`` (a running ``WireServer``, stopped after the test) and ``driver`` (a
    factory: ``driver(**config)`` builds the driver against ``server`` with ``DRIVER_DEFAULTS``
    under ``config``). Helpers for a subclass's own tests: ``serve``, ``generate`` (through
    ``stream_generate``), ``agenerate`` (through ``astream_generate`` in ``asyncio.run``),
    ``require`` and ``assert_key_absent``. After every test, no thread started during it may
    remain (the shared ``janito-loop`` thread aside), and no log record may show the API key.
    Redefining one of its tests needs ``@conformance_override("reason")``.
    """
