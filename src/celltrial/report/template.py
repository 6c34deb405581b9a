"""The page skeleton and its inline stylesheet (no external CSS, JS or fonts: the file opens offline).

Example:
    >>> "<style>" in page("t", "<h1>t</h1>", "", "")
    True
"""

from __future__ import annotations

import base64
import io

from .fmt import esc

# System font stacks only: nothing is fetched, and the page looks native on every platform.
CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --band: #f5f7fa; --warn: #fff4e5; --warn-line: #e69f00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
       font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
header.top { border-bottom: 3px solid var(--ink); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; }
h2 { font-size: 1.45rem; margin: 40px 0 12px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 22px 0 8px; }
.subtitle { color: var(--muted); margin: 0; }
.disclaimer { background: var(--band); border-left: 4px solid #0072B2; padding: 10px 14px; margin: 14px 0; }
.warning { background: var(--warn); border-left: 4px solid var(--warn-line); padding: 10px 14px; margin: 12px 0; }
.keybox { background: var(--band); border: 1px solid var(--line); padding: 10px 14px; margin: 14px 0; }
.na { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 0.9rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 12px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 0.95rem; width: 100%; }
table.compact { width: auto; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid #b8bcc4; }
table.summary td:first-child { color: var(--muted); width: 30%; }
table.summary td { font-variant-numeric: tabular-nums; }
.arm { white-space: nowrap; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 6px;
          vertical-align: baseline; }
figure { margin: 18px 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: var(--muted); font-size: 0.93rem; margin-top: 6px; }
nav.toc { columns: 2; font-size: 0.95rem; margin: 12px 0; }
nav.toc a { color: #0b57d0; text-decoration: none; }
pre { background: var(--band); padding: 10px; overflow-x: auto; font-size: 0.85rem; }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 48px; border-top: 1px solid var(--line);
         padding-top: 8px; }
@media print { h2 { break-before: auto; } figure { break-inside: avoid; } nav.toc { display: none; } }
"""


def page(title: str, header_html: str, toc_html: str, body_html: str, footer_html: str = "") -> str:
    """The whole HTML document; ``title`` is plain text (escaped here), the rest is trusted HTML."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{header_html}\n{toc_html}\n{body_html}\n<footer>{footer_html}</footer>\n</main>\n</body>\n</html>\n"
    )


def embedded_png(fig, alt: str, dpi: int = 110) -> str:
    """An ``<img>`` holding ``fig`` as a base64 PNG (the page stays one self-contained file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode("ascii")}">'
