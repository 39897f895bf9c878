"""The icons the portal uses, from Lucide (ISC), vendored as one SVG sprite.

`tools/vendor_icons.py` rebuilds static/vendor/lucide/icons.svg from the
lucide-static npm package with exactly the names below; `icon()` refuses any
other name, so a template cannot point at a symbol the sprite lacks.
"""

from __future__ import annotations

from markupsafe import Markup, escape

LUCIDE_VERSION = "1.62.0"
SPRITE = "vendor/lucide/icons.svg"

ICONS = (
    "archive",
    "building-2",
    "circle-check",
    "circle-dashed",
    "circle-pause",
    "circle-x",
    "clock",
    "download",
    "ellipsis-vertical",
    "file-text",
    "history",
    "info",
    "refresh-cw",
    "shield-check",
    "triangle-alert",
    "upload",
)


def icon(name: str, label: str | None = None, *, static_url: str = "/static") -> Markup:
    """An inline <svg> using the sprite; decorative unless `label` gives it a text alternative."""
    if name not in ICONS:
        raise ValueError(f"unknown icon {name!r}; add it to ICONS and run tools/vendor_icons.py")
    a11y = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return Markup(
        f'<svg class="icon icon-{name}" {a11y} focusable="false">'
        f'<use href="{static_url}/{SPRITE}#{name}"></use></svg>'
    )
