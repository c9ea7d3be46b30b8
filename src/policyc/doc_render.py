"""`policyc doc`: the document model rendered as Markdown or as one self-contained HTML page.

Every string a policy provides reaches the output through `_md_text`/`_md_code`
(Markdown: punctuation that could start markup is backslash-escaped, `|` in a
table cell too) or `html.escape` (HTML). The HTML page carries its own CSS,
loads nothing and runs no script.
"""

from __future__ import annotations

import html
import re

from .doc_model import Bullets, Document, Heading, Para, Seg, Table

# ───────────────────────── Markdown ─────────────────────────

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")
_MD_LINE_START = re.compile(r"^(\s*)([-+*=]|\d{1,9}[.)])(?=\s|$)")


def _md_text(text: str, start: bool) -> str:
    text = " ".join(text.split("\n"))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if start:
        m = _MD_LINE_START.match(text)
        if m:
            marker = m.group(2)
            text = m.group(1) + marker[:-1] + "\\" + marker[-1] + text[m.end():]
    return text


def _md_code(text: str, in_table: bool) -> str:
    text = " ".join(text.split("\n"))
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    out = f"{fence}{pad}{text}{pad}{fence}"
    if in_table:
        out = out.replace("|", "\\|")
    return out


def _md_inline(segs: list[Seg], in_table: bool = False, line_start: bool = False) -> str:
    """Inline text; `line_start`: the text begins a paragraph or a list item, where `1. ` or `- ` would
    start a list."""
    out = []
    for k, s in enumerate(segs):
        start = line_start and k == 0
        if s.kind == "text":
            out.append(_md_text(s.text, start))
        elif s.kind == "strong":
            out.append("**" + _md_text(s.text, False) + "**" if s.text.strip() else _md_text(s.text, start))
        else:  # code and links (Markdown viewers differ on heading anchors: a link is shown as its code)
            out.append(_md_code(s.text, in_table))
    return "".join(out)


def to_markdown(doc: Document) -> str:
    out: list[str] = []
    bullet = "*"
    for b in doc.blocks:
        # two lists one after the other are one list in Markdown, unless their bullets differ
        bullet = ("*" if bullet == "-" else "-") if isinstance(b, Bullets) else "*"
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + _md_inline(b.inline))
        elif isinstance(b, Para):
            text = _md_inline(b.inline, line_start=True)
            if b.style == "meta":
                out.append(f"*{text}*" if text.strip() else text)
            elif b.style == "note":
                out.append("> " + text)
            elif b.style == "warn":
                out.append("> **⚠** " + text)
            else:
                out.append(text)
        elif isinstance(b, Bullets):
            out.append("\n".join(f"{bullet} " + _md_inline(item, line_start=True) for item in b.items))
        elif isinstance(b, Table):
            cols = len(b.header)
            lines = ["| " + " | ".join(_md_inline(h, True) or " " for h in b.header) + " |",
                     "|" + "|".join("---" for _ in range(cols)) + "|"]
            for row in b.rows:
                cells = [(_md_inline(c, True) or " ") for c in row] + [" "] * (cols - len(row))
                lines.append("| " + " | ".join(cells) + " |")
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ───────────────────────── HTML ─────────────────────────

_CSS = """
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
       "Noto Sans CJK SC", sans-serif; line-height: 1.6; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.9rem; margin: 0 0 .25rem; }
h2 { font-size: 1.4rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.12rem; margin: 1.6rem 0 .4rem; }
p { margin: .45rem 0; }
p.meta { color: #57606a; font-size: .92rem; }
p.note, ul.note { color: #3d4a57; }
p.note { border-left: 3px solid #d0d7de; padding-left: .75rem; }
p.warn { border-left: 3px solid #cf222e; padding-left: .75rem; color: #82071e; }
ul { margin: .3rem 0 .6rem; padding-left: 1.4rem; }
table { border-collapse: collapse; margin: .5rem 0 .9rem; font-size: .95rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em;
       background: #f6f8fa; border-radius: 4px; padding: .05em .3em; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } table { break-inside: avoid; } }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_inline(segs: list[Seg]) -> str:
    out = []
    for s in segs:
        if s.kind == "text":
            out.append(_e(s.text))
        elif s.kind == "strong":
            out.append(f"<strong>{_e(s.text)}</strong>")
        elif s.kind == "link" and s.target:
            out.append(f'<a href="#{_e(s.target)}"><code>{_e(s.text)}</code></a>')
        else:
            out.append(f"<code>{_e(s.text)}</code>")
    return "".join(out)


def to_html(doc: Document) -> str:
    body: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Heading):
            ident = f' id="{_e(b.id)}"' if b.id else ""
            body.append(f"<h{b.level}{ident}>{_html_inline(b.inline)}</h{b.level}>")
        elif isinstance(b, Para):
            cls = f' class="{b.style}"' if b.style else ""
            prefix = "⚠ " if b.style == "warn" else ""
            body.append(f"<p{cls}>{prefix}{_html_inline(b.inline)}</p>")
        elif isinstance(b, Bullets):
            cls = f' class="{b.style}"' if b.style else ""
            items = "".join(f"<li>{_html_inline(item)}</li>" for item in b.items)
            body.append(f"<ul{cls}>{items}</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_html_inline(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in row) + "</tr>\n"
                           for row in b.rows)
            body.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>")
    lang = "zh-CN" if doc.lang == "zh" else "en"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="policyc doc">\n'
        f"<title>{_e(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
