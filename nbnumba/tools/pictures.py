"""The pictures of `nbnumba compare`: both images in gray and their difference with a colour bar.

`c.png` and `py.png` share one log-like gray scale. `diff.png` shows py - c pixel for pixel at
the top left: white where equal, blue where the port is below, red above, black where not
finite. The colour's strength is a log scale of |py - c| / max|c|, from LOG_FLOOR (1e-16, the
palest colour, which every smaller difference gets too) to max|py - c| / max|c| (full), so
every differing pixel shows however small its difference: a run whose pixels differ by 1e-13
in most places and by 1e-3 in five is a tinted image with five strong dots, not five dots on
white. Under the map a colour bar is labelled with the absolute scale max|py - c|, the
relative scale max|py - c| / max|c| and the difference the palest colour stands for. The text
is drawn with a built-in 5x7 pixel font (no imaging library).
"""
import math
import os

import numpy as np

from nbnumba.io.png import write_png

# diverging map end points (port below C: blue, above: red)
BLUE = np.array([59, 76, 192], float)
RED = np.array([180, 4, 38], float)
WHITE = np.array([255, 255, 255], float)
INK = np.array([0, 0, 0], np.uint8)
RULE = np.array([160, 160, 160], np.uint8)
LOG_FLOOR = 1e-16   # |py-c| / max|c| of the palest colour (smaller differences get it too)
PALEST = 0.25       # the colour strength of the smallest difference: visibly not white

# 5x7 glyphs, one 5-bit row each, top to bottom (the HD44780 character set's shapes)
FONT = {
    "0": (0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E), "1": (0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "2": (0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F), "3": (0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E),
    "4": (0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02), "5": (0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E),
    "6": (0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E), "7": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08),
    "8": (0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E), "9": (0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C),
    ".": (0, 0, 0, 0, 0, 0x0C, 0x0C), "-": (0, 0, 0, 0x1F, 0, 0, 0), "+": (0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0),
    "=": (0, 0, 0x1F, 0, 0x1F, 0, 0), "|": (0x04,) * 7, "/": (0, 0x01, 0x02, 0x04, 0x08, 0x10, 0),
    ":": (0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0), " ": (0,) * 7,
    "a": (0, 0, 0x0E, 0x01, 0x0F, 0x11, 0x0F), "b": (0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E),
    "c": (0, 0, 0x0E, 0x10, 0x10, 0x11, 0x0E), "d": (0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F),
    "e": (0, 0, 0x0E, 0x11, 0x1F, 0x10, 0x0E), "f": (0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08),
    "g": (0, 0, 0x0F, 0x11, 0x0F, 0x01, 0x0E), "<": (0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02),
    "i": (0x04, 0, 0x0C, 0x04, 0x04, 0x04, 0x0E), "k": (0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12),
    "l": (0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E), "m": (0, 0, 0x1A, 0x15, 0x15, 0x11, 0x11),
    "n": (0, 0, 0x16, 0x19, 0x11, 0x11, 0x11), "o": (0, 0, 0x0E, 0x11, 0x11, 0x11, 0x0E),
    "p": (0, 0, 0x1E, 0x11, 0x1E, 0x10, 0x10), "r": (0, 0, 0x16, 0x19, 0x10, 0x10, 0x10),
    "s": (0, 0, 0x0E, 0x10, 0x0E, 0x01, 0x1E), "t": (0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06),
    "u": (0, 0, 0x11, 0x11, 0x11, 0x13, 0x0D), "x": (0, 0, 0x11, 0x0A, 0x04, 0x0A, 0x11),
    "y": (0, 0, 0x11, 0x11, 0x0F, 0x01, 0x0E),
}
GLYPH_W, GLYPH_H = 6, 9  # a character's cell: 5x7 glyph plus spacing
BAR_CHARS = 36          # the colour bar is as wide as this many characters


def gray(image, vmax):
    """Log-like 8-bit gray: 0 at <= 0, 255 at vmax, 1/1000 of vmax at about a quarter."""
    x = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=vmax, neginf=0.0).clip(0, None)
    if vmax <= 0:
        return np.zeros(image.shape, np.uint8)
    scaled = np.log1p(x / (vmax / 1000.0)) / np.log1p(1000.0)
    return np.round(255 * scaled.clip(0, 1)).astype(np.uint8)


def signed_colours(t):
    """RGB of t in [-1, 1]: blue at -1, white at 0, red at +1, linear in between."""
    t = np.asarray(t, np.float64)[..., None]
    return np.where(t < 0, WHITE + (-t) * (BLUE - WHITE), WHITE + t * (RED - WHITE))


def strength(rel, top):
    """Colour strength in [PALEST, 1] of relative differences rel > 0: a log scale from
    LOG_FLOOR (or less: PALEST) to top (or more: 1)."""
    span = math.log10(top / LOG_FLOOR)
    x = np.log10(np.maximum(rel, LOG_FLOOR) / LOG_FLOOR) / span
    return PALEST + (1 - PALEST) * np.clip(x, 0.0, 1.0)


def diff_rgb(c, py, ref_max):
    """Port minus C as RGB: white where equal, blue below, red above, black where not finite,
    the strength a log scale (`strength`) of |py-c| / ref, ref being ref_max (max|c|) or, when
    that is 0, max|py-c|. Returns (rgb, max|py-c|)."""
    d = py.astype(np.float64) - c.astype(np.float64)
    finite = np.isfinite(d)
    abs_max = float(np.max(np.abs(d[finite]))) if finite.any() else 0.0
    t = np.zeros(d.shape)
    differ = finite & (d != 0)
    if abs_max > 0:
        ref = ref_max if ref_max > 0 else abs_max
        top = max(abs_max / ref, 10 * LOG_FLOOR)
        t[differ] = np.sign(d[differ]) * strength(np.abs(d[differ]) / ref, top)
    rgb = signed_colours(t)
    rgb[~finite] = 0
    return np.round(rgb).astype(np.uint8), abs_max


def draw_text(canvas, x, y, text, zoom=1):
    """Draw text in black with its top-left corner at (x, y), clipped to the canvas."""
    for n, char in enumerate(text):
        for row, bits in enumerate(FONT[char]):
            for col in range(5):
                if bits >> (4 - col) & 1:
                    top, left = y + row * zoom, x + (n * GLYPH_W + col) * zoom
                    canvas[top:top + zoom, left:left + zoom] = INK


def legend_lines(abs_max, ref_max, n_bad):
    """The tick labels (left, middle, right) and the text lines under the colour bar."""
    if abs_max == 0:
        ticks, lines = ("", "0", ""), ["identical: max|py-c| = 0"]
    else:
        ticks = (f"-{abs_max:.3g}", "0", f"+{abs_max:.3g}")
        lines = [f"abs: max|py-c| = {abs_max:.3g}"]
        if ref_max > 0:
            lines.append(f"rel: max|py-c|/max|c| = {abs_max / ref_max:.3g}")
        palest = LOG_FLOOR * (ref_max if ref_max > 0 else abs_max)
        lines.append(f"log: palest at |py-c| <= {palest:.3g}")
    if n_bad:
        lines.append(f"black: {n_bad} not finite")
    return ticks, lines


def bar_colours(width):
    """The colour bar's RGB, -max|py-c| (blue) to +max|py-c| (red): white in the middle column
    only (equal), the palest colour beside it (the smallest difference)."""
    x = np.linspace(-1.0, 1.0, width)
    t = np.sign(x) * (PALEST + (1 - PALEST) * np.abs(x))
    t[width // 2] = 0.0
    return signed_colours(t)


def with_colour_bar(rgb, abs_max, ref_max, n_bad=0):
    """The difference map on a white canvas with the labelled colour bar under it: abs_max is
    the map's scale max|py-c|, ref_max the C image's max|c|, n_bad the non-finite pixels."""
    height, width = rgb.shape[:2]
    zoom = max(1, min(3, width // 400))
    margin, line = 4 * zoom, GLYPH_H * zoom
    bar_w = BAR_CHARS * GLYPH_W * zoom
    ticks, lines = legend_lines(abs_max, ref_max, n_bad)
    canvas_w = max(width, bar_w + 2 * margin)
    top = height + margin
    canvas = np.full((top + line * (2 + len(lines)) + margin, canvas_w, 3), 255, np.uint8)
    canvas[:height, :width] = rgb
    canvas[height, :] = RULE
    bar = bar_colours(bar_w) if abs_max > 0 else np.full((bar_w, 3), 255.0)
    canvas[top:top + line - 2 * zoom, margin:margin + bar_w] = np.round(bar).astype(np.uint8)[None]
    for y in (top - 1, top + line - 2 * zoom):  # frame the bar, which is white when py == c
        canvas[y, margin:margin + bar_w] = RULE
    left, middle, right = ticks
    y = top + line
    draw_text(canvas, margin, y, left, zoom)
    draw_text(canvas, margin + (bar_w - len(middle) * GLYPH_W * zoom) // 2, y, middle, zoom)
    draw_text(canvas, margin + bar_w - len(right) * GLYPH_W * zoom, y, right, zoom)
    for n, text in enumerate(lines):
        draw_text(canvas, margin, y + (n + 1) * line, text, zoom)
    return canvas


def write_pictures(c, py, outdir, window=None):
    """c.png, py.png, diff.png (cropped to the (slow, fast) slices `window` when given);
    return their names and scales."""
    if window is not None:
        c, py = c[window], py[window]
    both = np.concatenate([c.ravel(), py.ravel()]).astype(np.float64)
    both = both[np.isfinite(both)]
    vmax = float(both.max()) if both.size else 0.0
    write_png(os.path.join(outdir, "c.png"), gray(c, vmax))
    write_png(os.path.join(outdir, "py.png"), gray(py, vmax))
    finite_c = np.abs(c[np.isfinite(c)].astype(np.float64))
    ref_max = float(finite_c.max()) if finite_c.size else 0.0
    rgb, scale = diff_rgb(c, py, ref_max)
    n_bad = int(np.sum(~np.isfinite(py.astype(np.float64) - c.astype(np.float64))))
    write_png(os.path.join(outdir, "diff.png"), with_colour_bar(rgb, scale, ref_max, n_bad))
    return {"c": "c.png", "py": "py.png", "diff": "diff.png", "gray_max": vmax, "diff_abs_max": scale,
            "diff_rel_max": scale / ref_max if ref_max > 0 else None}
