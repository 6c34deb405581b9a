"""Render a report HTML file headless with Chromium and save a full-page PNG screenshot.

Used to look at the report as a reader would (layout, legends, table alignment). Needs a
Chromium binary (Debian: ``apt-get install chromium``). Networking features are switched off:
the report must render from the file alone.

Usage:
    python scripts/screenshot_report.py out/report.html /tmp/report.png [--width 1400] [--height 9000] [--tile 1800]

``--tile H`` also cuts the screenshot into H-pixel-high pieces ``report_01.png``, ... (a whole
report is too tall to read as one downscaled image).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit(f"no Chromium found (tried {', '.join(BROWSERS)}); install it, e.g. apt-get install chromium")


def screenshot(html: Path, png: Path, width: int = 1400, height: int = 9000, timeout: float = 120.0) -> Path:
    """Screenshot ``html`` into ``png`` (a ``width`` x ``height`` CSS-pixel window)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [find_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--screenshot={png.resolve()}", html.resolve().as_uri()]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not png.exists():
        sys.stderr.write(result.stderr)
        raise SystemExit(f"screenshot failed (exit {result.returncode})")
    return png


def tiles(png: Path, tile_height: int) -> list:
    """Cut ``png`` into pieces of ``tile_height`` pixels, trailing blank space dropped."""
    from PIL import Image, ImageChops

    image = Image.open(png).convert("RGB")
    bbox = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    bottom = bbox[3] + 20 if bbox else image.height
    out = []
    for i, top in enumerate(range(0, bottom, tile_height), start=1):
        path = png.with_name(f"{png.stem}_{i:02d}.png")
        image.crop((0, top, image.width, min(top + tile_height, bottom))).save(path)
        out.append(path)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=9000)
    parser.add_argument("--tile", type=int, default=0, help="also write tiles of this height (pixels)")
    args = parser.parse_args(argv)
    print(screenshot(args.html, args.png, args.width, args.height))
    for path in tiles(args.png, args.tile) if args.tile else []:
        print(path)


if __name__ == "__main__":
    main()
