"""Rebuild static/vendor/lucide/icons.svg from the lucide-static npm package.

    npm pack lucide-static@1.62.0 && tar xzf lucide-static-1.62.0.tgz
    python tools/vendor_icons.py package

Only the icons listed in hiveo/icons.py go into the sprite, each as a <symbol>.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from hiveo.icons import ICONS, LUCIDE_VERSION

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "static" / "vendor" / "lucide"


def symbol(name: str, svg: str) -> str:
    body = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S)
    if body is None:
        raise SystemExit(f"{name}: no <svg> element")
    inner = " ".join(line.strip() for line in body.group(1).strip().splitlines())
    return (f'<symbol id="{name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
            f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{inner}</symbol>')


def main(package: Path) -> None:
    symbols = [symbol(name, (package / "icons" / f"{name}.svg").read_text()) for name in ICONS]
    TARGET.mkdir(parents=True, exist_ok=True)
    (TARGET / "icons.svg").write_text(
        f"<!-- Lucide {LUCIDE_VERSION} (ISC, see LICENSE): the icons hiveo uses. -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">\n'
        + "\n".join(symbols) + "\n</svg>\n"
    )
    shutil.copy(package / "LICENSE", TARGET / "LICENSE")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
