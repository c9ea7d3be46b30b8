"""`policyc doc`: the scheme document, through the command line.

Every shipped policy (but the counter-example) is rendered in Markdown and in
HTML, in English and in Chinese, and each document is checked against the
policy's own IR: every input's doc string (or name), every item with its
maximum, every table row's result, every worked case's title. Nothing here
compares with a stored copy of the output.

Most runs call `policyc.cli.main` in-process with stdout and stderr captured
apart (fast); a few run `python -m policyc` as a subprocess to see the real
streams and exit statuses.
"""

from __future__ import annotations

import ast as pyast
import functools
import html
import io
import os
import re
import subprocess
import sys
import textwrap
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policyc import cli, ir
from policyc.compiler import check_source
from policyc.doc_model import PHRASE_TABLES, decimal_text
from policyc.doc_words import ZH

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
POLICIES = REPO / "policies"
COUNTER_EXAMPLE = POLICIES / "examples" / "presales_naive.policy"


def _is_counter_example(path: Path) -> bool:
    _, diags = check_source(path.read_text(encoding="utf-8-sig"), str(path))
    return any(d.expected for d in diags)


ALL_POLICIES = sorted(POLICIES.rglob("*.policy"))
SHIPPED = [p for p in ALL_POLICIES if not _is_counter_example(p)]


# ───────────────────────── running the CLI ─────────────────────────


def _cli(argv: list[str]) -> tuple[int, str, str]:
    """Run `policyc ARGV` in-process; return (exit status, stdout, stderr), the streams kept apart."""
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", write_through=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        try:
            rc = cli.main(argv)
        except SystemExit as e:  # argparse usage errors
            rc = e.code if isinstance(e.code, int) else 2
        out.flush()
        err.flush()
    finally:
        sys.stdout, sys.stderr = saved
    return rc, out_bytes.getvalue().decode("utf-8"), err_bytes.getvalue().decode("utf-8")


@functools.lru_cache(maxsize=None)
def _doc(path: str, fmt: str, lang: str) -> tuple[int, str, str]:
    return _cli(["doc", path, "--format", fmt, "--lang", lang])


def _subprocess(*args: str, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "policyc", *args], capture_output=True, env=env, cwd=REPO,
                          timeout=120, **kw)


@functools.lru_cache(maxsize=None)
def _checked(path: str) -> tuple[ir.Policy, str]:
    text = Path(path).read_text(encoding="utf-8-sig")
    policy, diags = check_source(text, path)
    assert policy is not None, [d.message for d in diags]
    return policy, text


# ───────────────────────── reading a document back ─────────────────────────


class _Lines(HTMLParser):
    """An HTML page as text lines: a table row is `| cell | cell |`, code spans are kept apart."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.code_depth = 0
        self.code: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.cur = ["| "]
        elif tag == "code":
            self.code_depth += 1
        elif tag == "style":
            self.in_style = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cur.append(" | ")
        elif tag == "code":
            self.code_depth -= 1
        elif tag == "style":
            self.in_style = False
        if tag in ("tr", "p", "li", "h1", "h2", "h3", "title"):
            line = "".join(self.cur).rstrip()
            self.lines.append(line)
            self.cur = []

    def handle_data(self, data):
        if self.in_style:
            return
        self.cur.append(data)
        if self.code_depth:
            self.code.append(data)


def visible_lines(out: str, fmt: str) -> list[str]:
    """The document's text as a reader sees it, one line per paragraph, heading, list item or table row."""
    if fmt == "html":
        p = _Lines()
        p.feed(out)
        p.close()
        return [ln for ln in p.lines if ln.strip()]
    lines = []
    for ln in out.splitlines():
        if re.fullmatch(r"\|(-+\|)+", ln):
            continue
        lines.append(_md_unescape(ln))
    return [ln for ln in lines if ln.strip()]


def _md_unescape(text: str) -> str:
    """Markdown source → the text it shows: backslash escapes and code fences removed."""
    text = re.sub(r"(?<!\\)(`+)\s?(.*?)\s?\1", lambda m: m.group(2).replace("\\|", "\u0000"), text)
    text = re.sub(r"\\([\\`*_\[\]<>|~&#.)+\-=])", r"\1", text)
    text = text.replace("**", "")
    return text.replace("\u0000", "\\|")


def table_cells(out: str, fmt: str) -> list[str]:
    cells = []
    for ln in visible_lines(out, fmt):
        if ln.startswith("| "):
            cells += [c.strip() for c in re.split(r"(?<!\\) \| ", ln.strip().strip("|"))]
    return cells


def md_table_rows(out: str) -> list[list[str]]:
    """Every table of a Markdown document as rows of raw cells (split at unescaped pipes)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for ln in out.splitlines():
        if ln.startswith("|"):
            cells = re.split(r"(?<!\\)\|", ln)[1:-1]
            if current is None:
                current = []
                tables.append(current)
            current.append(cells)
        else:
            current = None
    return tables


def code_texts(out: str, fmt: str) -> list[str]:
    if fmt == "html":
        p = _Lines()
        p.feed(out)
        return p.code
    return [m.group(2) for m in re.finditer(r"(?<!\\)(`+)\s?(.*?)\s?\1", out)]


_VOID = {"meta", "br", "hr", "img", "link", "input"}


class _Balance(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def assert_well_formed_html(out: str) -> None:
    assert out.startswith("<!DOCTYPE html>")
    assert not re.search(r"<\s*script", out, re.I), "the page must not run any script"
    p = _Balance()
    p.feed(out)
    p.close()
    assert not p.problems, p.problems[:5]
    assert not p.stack, f"unclosed tags: {p.stack}"
    assert {"html", "head", "body", "style", "title"} <= p.tags
    # self-contained: nothing is loaded from elsewhere, links only point inside the page
    for name, value in p.attrs:
        assert name not in ("src", "srcset"), (name, value)
        if name == "href":
            assert value and value.startswith("#"), value
    assert "<link" not in out and "@import" not in out and "url(" not in out


# ───────────────────────── what a document must show ─────────────────────────


def _number_forms(v: Fraction) -> set[str]:
    forms = set()
    for x, suffix in ((v, ""), (v * 100, "%"), (v, "s"), (v / 60, "min"), (v / 3600, "h")):
        t = decimal_text(Fraction(x))
        if t is not None:
            forms.add(t + suffix)
    return forms


def table_results(policy: ir.Policy) -> list[tuple[str, set[str]]]:
    """Every table row's result that is a constant, as the forms a document may write it in."""
    out = []
    for d in policy.definitions:
        for e in ir.walk(d.expr):
            if isinstance(e, ir.Cases):
                for row in list(e.rows) + ([e.otherwise] if e.otherwise is not None else []):
                    if isinstance(row.result, ir.Const) and row.result.value is not None:
                        v = row.result.value
                        forms = {v} if isinstance(v, str) else _number_forms(Fraction(v))
                        out.append((f"{d.name}: {row.text}", forms))
            elif isinstance(e, ir.Linear):
                for x, y in e.points:
                    out.append((f"{d.name}: point {x}", _number_forms(Fraction(y))))
            elif isinstance(e, ir.Marginal):
                for lo, hi, rate in e.slices:
                    out.append((f"{d.name}: slice {lo}..{hi}", _number_forms(Fraction(rate))))
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_policy_is_documented(path, fmt, lang):
    rc, out, err = _doc(str(path), fmt, lang)
    assert rc == 0, err
    assert "Traceback" not in err
    policy, text = _checked(str(path))
    lines = visible_lines(out, fmt)
    shown = "\n".join(lines)
    cells = table_cells(out, fmt)
    codes = code_texts(out, fmt)

    assert (policy.title or policy.name) in lines[0 if fmt == "md" else 1]
    assert policy.name in codes
    # every input, with its doc string
    for i in policy.inputs:
        assert i.name in codes, i.name
        row = next((ln for ln in lines if ln.startswith(f"| {i.name} |")), None)
        assert row is not None, f"no row for input {i.name}"
        if i.doc:
            assert f"| {i.doc} |" in row, (i.doc, row)
    # every item, with its maximum, in the items table
    for d in policy.definitions:
        if d.kind == "item":
            rows = [ln for ln in lines if ln.startswith("| ") and re.search(rf"(^| |\(){re.escape(d.name)}( |\)|$)",
                                                                             ln.split(" | ")[0] + " ")]
            maxima = {decimal_text(d.max)}
            assert any(set(c.strip() for c in r.split(" | ")) & maxima for r in rows), (d.name, d.max)
        if d.kind != "hidden":
            assert d.name in codes, d.name
            if d.doc:
                assert d.doc in shown, d.doc
    # every table row's result value
    for what, forms in table_results(policy):
        assert any(f in cells for f in forms), f"{what}: none of {sorted(forms)} is in a table"
    # every worked case, by its title (or name)
    for ex in policy.examples:
        assert any(ex.label in ln for ln in lines if not ln.startswith("| ")), ex.label
    if not policy.examples:
        assert "Worked cases" not in shown and "计算示例" not in shown
    if fmt == "html":
        assert_well_formed_html(out)
        assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in out
    else:
        for table in md_table_rows(out):
            assert len({len(r) for r in table}) == 1, table[:3]
    if lang == "zh":
        assert_no_english_phrases(out, fmt, text)


def test_the_shipped_policies_are_all_covered():
    assert len(SHIPPED) == len(ALL_POLICIES) - 1
    assert COUNTER_EXAMPLE not in SHIPPED


def test_computed_results_match_what_the_cases_state():
    """The worked cases' results are the policy's: a stated value that matches is marked ✓."""
    path = POLICIES / "taobao_aftersales.policy"
    policy, _ = _checked(str(path))
    rc, out, err = _doc(str(path), "md", "en")
    assert rc == 0
    if not any(ex.checks for ex in policy.examples):
        pytest.skip("no stated values yet")
    assert "✓" in out and "✗" not in out
    assert "warning" not in err


# ───────────────────────── Chinese ─────────────────────────


_HOLE = re.compile(r"\{(\w+)\}")


def _english_parts(key: str) -> list[str]:
    parts = [p.strip(" :;,.()“”—·") for p in _HOLE.split(key)[::2]]
    return [p for p in parts if re.search(r"[A-Za-z]{3,}", p)]


def assert_no_english_phrases(out: str, fmt: str, source: str) -> None:
    """No fixed English phrase of the catalogue is left in a Chinese document (outside code, and unless
    the policy itself writes it)."""
    if fmt == "html":
        text = re.sub(r"<code>.*?</code>", " ", out, flags=re.S)
        text = re.sub(r"<style>.*?</style>|<head>.*?</head>", " ", text, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    else:
        text = _md_unescape(re.sub(r"(?<!\\)(`+).*?\1", " ", out))
    for key in ZH:
        for part in _english_parts(key):
            pattern = rf"(?<![A-Za-z0-9_]){re.escape(part)}(?![A-Za-z0-9_])"
            if re.search(pattern, source, re.I):
                continue
            assert not re.search(pattern, text), f"English left in the Chinese document: {part!r} (from {key!r})"


def _catalogue_uses() -> set[str]:
    """Every phrase the doc modules pass to `t`/`ti`, read from their source, and the phrase tables.

    (`Words.template` raises KeyError for a phrase missing from the catalogue, in English too, so a
    phrase this misses still fails every document that uses it.)"""
    used: set[str] = set()
    for name in ("doc.py", "doc_model.py", "doc_render.py"):
        tree = pyast.parse((SRC / "policyc" / name).read_text(encoding="utf-8"))
        for node in pyast.walk(tree):
            if isinstance(node, pyast.Call) and node.args:
                f = node.func
                fname = f.attr if isinstance(f, pyast.Attribute) else getattr(f, "id", None)
                arg = node.args[0]
                # a phrase that is not written out where it is used comes from a phrase table (below)
                if fname in ("t", "ti") and isinstance(arg, pyast.Constant) and isinstance(arg.value, str):
                    used.add(arg.value)
    for table in PHRASE_TABLES:
        used |= set(table.values())
    return used


def test_every_phrase_used_is_in_the_catalogue_and_every_entry_is_used():
    used = _catalogue_uses()
    assert sorted(used - set(ZH)) == []
    assert sorted(set(ZH) - used) == []


@pytest.mark.parametrize("key", sorted(ZH))
def test_every_catalogue_entry_has_chinese_with_the_same_holes(key):
    zh = ZH[key]
    assert zh and zh != key or not re.search(r"[A-Za-z]{2,}", _HOLE.sub("", key))
    if re.search(r"[A-Za-z]", _HOLE.sub("", key)):
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key!r} → {zh!r} has no Chinese"
        for part in _english_parts(key):
            assert part not in zh, (key, zh)
    assert set(_HOLE.findall(key)) == set(_HOLE.findall(zh))


# ───────────────────────── escaping ─────────────────────────

HOSTILE = textwrap.dedent('''\
    # 1. 注意 <b>粗体</b> & <script>alert("purpose")</script>
    # policyc: ignore[W401] a directive, never shown
    policy hostile "<script>alert(1)</script> & 方案 | 标题"
    period month

    input rate : percent              "退款率 <script>x</script> | a & b *c* _d_ [e](f) `g`"
    input grade : grade 优 > 良       "# 1. 等级"
    input n : count                   "- 列表? 1) 不是"

    # - 第一条: 退款率
    item score 10 pts "得分 | <i>斜体</i> & more" = first rate:
        <= 5% -> 10
        else  -> 0
    item g 10 pts = by grade: 优 -> 10, 良 -> 5
    pay bonus "奖金 <img src=x onerror=alert(1)>" = (100 * (score + g) / 20 round 0.01) + 0 per n

    example 满分 "<script>alert('case')</script> | & 满分":
        given rate = 3%, grade = 优, n = 0
        expect score = 10, bonus = 100
''')


@pytest.fixture
def hostile(tmp_path):
    p = tmp_path / "hostile.policy"
    p.write_text(HOSTILE, encoding="utf-8")
    return p


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_escapes_every_policy_string(hostile, lang):
    rc, out, err = _cli(["doc", str(hostile), "--format", "html", "--lang", lang])
    assert rc == 0, err
    assert_well_formed_html(out)
    assert "<script" not in out.lower() and "<img" not in out and "<i>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 方案 | 标题" in out  # the title, in <title> and <h1>
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "a &amp; b" in out
    shown = "\n".join(visible_lines(out, "html"))
    assert "退款率 <script>x</script> | a & b *c* _d_ [e](f) `g`" in shown  # shown as written, as text
    assert "policyc: ignore" not in out
    assert "1. 注意 <b>粗体</b> & <script>alert(\"purpose\")</script>" in shown
    assert "- 第一条: 退款率" in shown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markdown_escapes_every_policy_string(hostile, lang):
    rc, out, err = _cli(["doc", str(hostile), "--format", "md", "--lang", lang])
    assert rc == 0, err
    # no raw HTML: every `<` a policy wrote is escaped
    assert not re.search(r"(?<!\\)<(script|img|i>|b>)", out)
    # `|` in a cell never splits it: every table keeps its column count
    for table in md_table_rows(out):
        assert len({len(r) for r in table}) == 1, table
    lines = visible_lines(out, "md")
    assert any("退款率 <script>x</script> | a & b *c* _d_ [e](f) `g`" in ln for ln in lines)
    # comments that look like a list stay text; doc strings that do stay inside their cells
    assert "1\\. 注意 \\<b\\>粗体\\</b\\> \\& \\<script\\>alert(\"purpose\")\\</script\\>" in out.splitlines()
    assert "> \\- 第一条: 退款率" in out.splitlines()
    assert "| \\# 1. 等级 |" in out and "| - 列表? 1) 不是 |" in out
    assert "policyc: ignore" not in out
    title = out.splitlines()[0]
    assert title.startswith("# ") and "\\<script\\>" in title and "\\|" in title and "\\&" in title


def test_markdown_code_spans_survive_backticks_and_pipes(tmp_path):
    p = tmp_path / "codes.policy"
    p.write_text(textwrap.dedent('''\
        policy codes "代码"
        period month
        input level : choice "A|B" | "C`D"   "级别"
        pay base = by level: "A|B" -> 1000, "C`D" -> 2000
    '''), encoding="utf-8")
    rc, out, err = _cli(["doc", str(p)])
    assert rc == 0, err
    for table in md_table_rows(out):
        assert len({len(r) for r in table}) == 1, table
    assert "A\\|B" in out


# ───────────────────────── the command line ─────────────────────────

TAOBAO = POLICIES / "taobao_aftersales.policy"


def test_output_file_is_written_and_stdout_stays_empty(tmp_path):
    target = tmp_path / "scheme.html"
    rc, out, err = _cli(["doc", str(TAOBAO), "--format", "html", "--lang", "zh", "-o", str(target)])
    assert rc == 0, err
    assert out == ""
    written = target.read_text(encoding="utf-8")
    assert written == _doc(str(TAOBAO), "html", "zh")[1]
    assert [f.name for f in tmp_path.iterdir()] == ["scheme.html"]  # no temporary file left behind


def test_output_file_replaces_an_existing_one(tmp_path):
    target = tmp_path / "scheme.md"
    target.write_text("old", encoding="utf-8")
    rc, out, err = _cli(["doc", str(TAOBAO), "--output", str(target)])
    assert rc == 0, err
    assert target.read_text(encoding="utf-8") == _doc(str(TAOBAO), "md", "en")[1]


def test_unwritable_output_exits_2(tmp_path):
    target = tmp_path / "no such folder" / "scheme.md"
    rc, out, err = _cli(["doc", str(TAOBAO), "-o", str(target)])
    assert rc == 2
    assert out == ""
    assert "cannot write" in err
    assert not target.exists()


def test_missing_policy_exits_2(tmp_path):
    rc, out, err = _cli(["doc", str(tmp_path / "missing.policy")])
    assert (rc, out) == (2, "")
    assert "cannot read" in err


def test_a_folder_is_not_a_policy(tmp_path):
    rc, out, err = _cli(["doc", str(tmp_path)])
    assert (rc, out) == (2, "")
    assert "cannot read" in err


def test_policy_that_is_not_utf8_exits_2(tmp_path):
    p = tmp_path / "gbk.policy"
    p.write_bytes('policy gbk "淘宝"\nperiod month\n'.encode("gbk"))
    rc, out, err = _cli(["doc", str(p)])
    assert (rc, out) == (2, "")
    assert "not UTF-8" in err


def test_policy_with_a_bom_is_documented(tmp_path):
    p = tmp_path / "bom.policy"
    p.write_bytes(b"\xef\xbb\xbf" + TAOBAO.read_bytes())
    rc, out, err = _cli(["doc", str(p)])
    assert rc == 0, err
    assert out == _doc(str(TAOBAO), "md", "en")[1]


BAD = textwrap.dedent('''\
    policy bad "坏方案"
    period month
    input refund_rate : percent "退款率"
    item refund 30 pts = first refund_rat:
        <= 5% -> 30
        else -> 0
''')


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_policy_that_does_not_check_prints_its_errors_and_exits_1(tmp_path, lang):
    p = tmp_path / "bad.policy"
    p.write_text(BAD, encoding="utf-8")
    rc, out, err = _cli(["doc", str(p), "--lang", lang])
    assert rc == 1
    assert out == ""
    assert "E201" in err and "refund_rat" in err
    assert f"{p}:4:" in err
    if lang == "zh":
        assert "没有定义" in err and "未通过检查" in err
    else:
        assert "does not check" in err


def test_counter_example_cannot_be_published(tmp_path):
    rc, out, err = _cli(["doc", str(COUNTER_EXAMPLE)])
    assert rc == 1
    assert out == ""
    assert "counter-example" in err and "E310" in err
    rc, out, err = _cli(["doc", str(COUNTER_EXAMPLE), "--lang", "zh", "-o", str(tmp_path / "x.md")])
    assert rc == 1 and out == "" and "反例" in err
    assert not (tmp_path / "x.md").exists()


@pytest.mark.parametrize("argv", [
    ["doc"],
    ["doc", str(TAOBAO), "--format", "pdf"],
    ["doc", str(TAOBAO), "--lang", "fr"],
    ["doc", str(TAOBAO), str(TAOBAO)],
])
def test_usage_errors_exit_2(argv):
    rc, out, err = _cli(argv)
    assert rc == 2
    assert out == ""
    assert "usage:" in err


def test_real_streams_and_exit_statuses():
    ok = _subprocess("doc", str(TAOBAO), "--format", "html", "--lang", "zh")
    assert ok.returncode == 0, ok.stderr.decode()
    assert ok.stdout.decode("utf-8").startswith("<!DOCTYPE html>")
    assert b"Traceback" not in ok.stderr
    counter = _subprocess("doc", str(COUNTER_EXAMPLE))
    assert counter.returncode == 1 and counter.stdout == b""
    assert b"counter-example" in counter.stderr
    usage = _subprocess("doc", str(TAOBAO), "--format", "docx")
    assert usage.returncode == 2 and usage.stdout == b""


# ───────────────────────── worked cases ─────────────────────────

CASES = textwrap.dedent('''\
    policy cases "示例"
    period month

    input late : count      "迟到"
    input standout : points in 0..5 "加分"

    item attendance 20 pts "考勤" = 20 - 5 per late
    total "总分" = items + standout

    example 满分 "全勤":
        given late = 0, standout = 0
        expect attendance = 20, total = 20

    example "迟到两次" from 满分:
        given late = 2
        expect total = 11

    example "加分超出范围" from 满分:
        given standout = 6
        expect rejected standout
''')


def test_worked_cases_show_given_expected_and_computed_values(tmp_path):
    p = tmp_path / "cases.policy"
    p.write_text(CASES, encoding="utf-8")
    rc, out, err = _cli(["doc", str(p)])
    assert rc == 0
    lines = visible_lines(out, "md")
    # the first case: every input given, every value computed, the stated ones marked
    assert "| 总分 (total) | 20 ✓ |" in lines
    # the second starts from the first and shows only what it changes
    i = next(k for k, ln in enumerate(lines) if "迟到两次" in ln)
    assert "Starts from case “全勤” and changes:" in lines[i + 1]
    assert "| 迟到 (late) | 2 |" in lines
    # the stated 11 is not what the policy gives (10): the document says so, and so does stderr
    assert "| 总分 (total) | 10 ✗ (the case expects 11) |" in lines
    assert "warning" in err and "迟到两次" in err and "policyc test" in err
    # the third is refused, as it expects, naming the field
    j = next(k for k, ln in enumerate(lines) if "加分超出范围" in ln)
    assert any("The policy refuses this record" in ln for ln in lines[j:])
    assert any("加分 (standout): 6 outside" in ln for ln in lines[j:])


def test_purpose_is_the_comment_above_the_policy_line_without_directives(tmp_path):
    p = tmp_path / "purpose.policy"
    p.write_text(textwrap.dedent('''\
        # 第一段, 第一行
        # 接着写的第二行
        #
        # 第二段
        # policyc: ignore[W401] not a purpose
        policy purpose "目的"
        period quarter
        source "《制度》第三条"
        # an unused comment
        input x : count
        y = x
    '''), encoding="utf-8")
    rc, out, err = _cli(["doc", str(p), "--lang", "zh"])
    assert rc == 0, err
    lines = visible_lines(out, "md")
    assert "第一段, 第一行接着写的第二行" in lines
    assert "第二段" in lines
    assert "依据：《制度》第三条" in lines
    assert "policyc:" not in out
    assert any("按季度考核" in ln for ln in lines)
