"""Draw page one of a council report (a PDF) as a PNG: docs/report-example.png, the picture
the README links to, made from the demo's data.

    make report-picture
    # the same by hand:
    .venv/bin/vandra demo && .venv/bin/python tools/report_picture.py demo-out/rapport.pdf

A developer's tool (pypdfium2 is a dev dependency): vandra itself never draws pictures of
its PDFs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pypdfium2

DEFAULT_PDF = Path("demo-out/rapport.pdf")
DEFAULT_PNG = Path("docs/report-example.png")


def picture(pdf: Path, png: Path, width: int = 1240) -> None:
    """Page one at ``width`` pixels (A4 at 150 dpi is 1240 wide), on white."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        try:
            scale = width / page.get_width()
            image = page.render(scale=scale, fill_color=(255, 255, 255, 255)).to_pil()
        finally:
            page.close()
        png.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(png, optimize=True)
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", type=Path, default=DEFAULT_PDF, help="the report")
    parser.add_argument("--out", type=Path, default=DEFAULT_PNG, help="the picture to write")
    parser.add_argument("--width", type=int, default=1240, help="pixels across")
    arguments = parser.parse_args()
    picture(arguments.pdf, arguments.out, arguments.width)
    print(f"{arguments.out}: page 1 of {arguments.pdf}")


if __name__ == "__main__":
    main()
