"""Draws docs/images/explain_example.png: the README's worked example of explain_html,
as a picture.

The machine this project is built on has no browser to screenshot the HTML page, so
this script lays out the same explanation the same way (the tokens' character spans,
the colours of textmodel.explanation's render_html, the same header line per text) as
an SVG in a monospace font, and rasterises it with rsvg-convert. Run from the
repository root after scripts/build.sh:

    python3 docs/images/explain_example.py
"""
import html
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))

from textmodel import TextClassifier  # noqa: E402
from textmodel.explanation import _colour  # noqa: E402  (the colours explain_html uses)

TEXTS = ["My parcel never arrived, where is it?", "I was charged twice, please refund me",
         "Can't log in: my password reset link fails"]
CHAR, LINE, PAD = 9.6, 58, 14  # DejaVu Sans Mono at 16 px: 9.6 px per character


def main():
    clf = TextClassifier({"training": {"epochs": 20, "threads": 1}})
    clf.fit_files(str(ROOT / "data/support/train.csv"), str(ROOT / "data/support/valid.csv"))
    explanations = clf.explain(TEXTS)
    width = max(int(PAD * 2 + CHAR * max(len(t) for t in TEXTS) + 40), 560)
    height = 70 + LINE * len(TEXTS)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="14" y="26" font-family="DejaVu Sans" font-size="15" font-weight="bold" fill="#222">'
           'Token attributions (explain_html, integrated gradients)</text>',
           f'<rect x="14" y="36" width="130" height="18" rx="3" fill="rgba(22, 150, 60, 0.8)"/>'
           '<text x="20" y="50" font-family="DejaVu Sans" font-size="12">raises the output</text>',
           f'<rect x="152" y="36" width="80" height="18" rx="3" fill="rgba(210, 40, 40, 0.8)"/>'
           '<text x="158" y="50" font-family="DejaVu Sans" font-size="12">lowers it</text>']
    for row, (text, e) in enumerate(zip(TEXTS, explanations)):
        top = 64 + row * LINE
        scale = max(abs(s) for _, _, _, s in e.tokens)
        out.append(f'<text x="{PAD}" y="{top + 14}" font-family="DejaVu Sans" font-size="11" fill="#555">'
                   f'{html.escape(e.target)}: {e.output:.4f} · reference {e.reference_output:.4f} · '
                   f'delta {e.delta:+.2e}</text>')
        for _, start, end, score in e.tokens:
            out.append(f'<rect x="{PAD + start * CHAR:.1f}" y="{top + 20}" width="{(end - start) * CHAR:.1f}" '
                       f'height="22" rx="3" fill="{_colour(score, scale)}"/>')
        out.append(f'<text x="{PAD}" y="{top + 36}" font-family="DejaVu Sans Mono" font-size="16" '
                   f'xml:space="preserve" fill="#222">{html.escape(text)}</text>')
    out.append("</svg>")
    svg = ROOT / "docs/images/explain_example.svg"
    svg.write_text("\n".join(out) + "\n")
    subprocess.run(["rsvg-convert", "-o", str(svg.with_suffix(".png")), str(svg)], check=True)
    svg.unlink()


if __name__ == "__main__":
    main()
