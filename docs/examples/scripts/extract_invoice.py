"""Typed answers: ``python extract_invoice.py "Invoice F-7 for 120.50 EUR, due 2027-01-31"``.

With a provider (``JANITO_DRIVER=openai``, ``gemini``, ``mistral``, ``anthropic``...) the model
reads the text and answers in the dataclass's shape; the offline ``echo`` driver (the default)
answers the prompt verbatim, so pass it JSON to see the parsing:
``python extract_invoice.py '{"number": "F-7", "total": 120.5, "currency": "EUR"}'``.
"""

from __future__ import annotations

import dataclasses
import os
import sys

from janito_core import OutputError, get_driver


@dataclasses.dataclass
class Invoice:
    """An invoice's key figures."""

    number: str
    total: float
    currency: str
    due: str | None = None


def main(text: str) -> int:
    driver = get_driver(os.environ.get("JANITO_DRIVER", "echo"))
    try:
        result = driver.generate(text, output_schema=Invoice)
    except OutputError as exc:
        print(f"the answer did not fit: {exc.reason}\n{exc.text}", file=sys.stderr)
        return 1
    invoice: Invoice = result.output
    print(f"{invoice.number}: {invoice.total:.2f} {invoice.currency}, due {invoice.due or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(" ".join(sys.argv[1:])))
