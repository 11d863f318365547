"""Token attributions as Python values and as HTML.

:meth:`TextClassifier.explain` and :meth:`TextRegressor.explain` return one
:class:`Explanation` per text; :func:`render_html` turns them into a standalone HTML
page (inline styles, no JavaScript) that a browser or a notebook shows as the text with
every token's background coloured by its score.
"""

import html
from typing import List, NamedTuple, Optional, Tuple


class Explanation(NamedTuple):
    """The attributions of one text.

    Attributes:
        tokens: one ``(token, start, end, score)`` per token the model read, in text
            order. ``token`` is the token as the model read it (lower-cased when the
            tokenizer lower-cases, ``<url>`` for a URL). For a ``str`` text, ``start``
            and ``end`` are **character indices**: ``text[start:end]`` is the token as
            written (original case and accents); for a ``bytes`` text they are byte
            offsets into it.
        delta: integrated gradients' completeness gap, ``sum(scores) - (output -
            reference_output)``; NaN for occlusion.
        target: the label explained (its name), or None for a regressor.
        output: the explained number for the text: the target's probability or logit,
            or the predicted value of a regressor.
        reference_output: the same number with every token at the reference
            (integrated gradients); NaN for occlusion.
        target_index: the label's index in ``classes_`` (0 for a regressor).
    """

    tokens: List[Tuple[str, int, int, float]]
    delta: float
    target: Optional[str]
    output: float
    reference_output: float
    target_index: int


def char_offsets(text, tokens):
    """Tokens with byte offsets into ``text.encode("utf-8", "replace")`` (what the
    library was given) re-expressed as character indices into ``text``."""
    if text.isascii():
        return tokens
    starts = {}
    position = 0
    for i, ch in enumerate(text):
        starts[position] = i
        position += len(ch.encode("utf-8", "replace"))
    starts[position] = len(text)
    return [(token, starts[start], starts[end], score) for token, start, end, score in tokens]


def _colour(score, scale):
    """Background for a score: green for positive, red for negative, by |score| / scale."""
    alpha = 0.0 if scale <= 0 else min(1.0, abs(score) / scale)
    rgb = "22, 150, 60" if score >= 0 else "210, 40, 40"
    return f"rgba({rgb}, {alpha:.3f})"


def render_html(texts, explanations, title="Token attributions"):
    """A standalone HTML page showing each text with its tokens coloured by score.

    Green marks tokens that raise the explained output, red those that lower it; the
    strongest token of each text is fully coloured. Hovering a token shows its score
    (a ``title`` attribute: no JavaScript). Characters between tokens (spaces,
    characters past tokenizer.max_length) are shown uncoloured.
    """
    rows = []
    for text, e in zip(texts, explanations):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
            e = e._replace(tokens=char_offsets(text, e.tokens))
        scale = max((abs(s) for _, _, _, s in e.tokens), default=0.0)
        parts, position = [], 0
        for token, start, end, score in e.tokens:
            if start < position:  # tokens from one character (a folded expansion) share it
                continue
            parts.append(html.escape(text[position:start]))
            parts.append(f'<span class="tok" style="background:{_colour(score, scale)}" '
                         f'title="{html.escape(token)}: {score:+.4f}">{html.escape(text[start:end])}</span>')
            position = end
        parts.append(html.escape(text[position:]))
        label = "value" if e.target is None else html.escape(str(e.target))
        facts = f"{label}: {e.output:.4f}"
        if e.delta == e.delta:  # not NaN: integrated gradients
            facts += f" &middot; reference {e.reference_output:.4f} &middot; delta {e.delta:+.2e}"
        rows.append(f'<div class="row"><div class="facts">{facts}</div>'
                    f'<div class="text">{"".join(parts)}</div></div>')
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em;color:#222}"
        ".row{margin:0 0 1em 0;padding:.5em .7em;border:1px solid #ddd;border-radius:4px}"
        ".facts{font-size:80%;color:#555;margin-bottom:.3em}"
        ".text{font-size:110%;line-height:1.8;white-space:pre-wrap}"
        ".tok{padding:.1em .15em;border-radius:3px}"
        ".legend span{padding:.1em .4em;border-radius:3px;margin-right:.5em}"
        "</style></head><body>"
        f"<h3>{html.escape(title)}</h3>"
        '<p class="legend"><span style="background:rgba(22, 150, 60, 0.8)">raises the output</span>'
        '<span style="background:rgba(210, 40, 40, 0.8)">lowers it</span></p>'
        + "".join(rows) + "</body></html>\n")
