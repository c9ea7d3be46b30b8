"""Chinese for diagnostics (`policyc check --lang zh`), for HR staff.

Checkers write their messages in English and keep editing them; this module
does not touch them. It holds a catalogue: one entry per message *shape*, an
English pattern with named holes and a Chinese template that uses them:

    "`{name}` is not defined"  →  "`{name}` 没有定义"

A hole between backticks (`{name}`) matches one piece of code — a name, a
label, a formula — and is copied as it is: names, code and quoted policy text
are never translated. Other holes match any text; those that stand for more
words (a kind of value, "the rounded value", a list of what the parser
expected) are translated in turn by a smaller catalogue.

`translate(d)` returns a copy of a diagnostic with Chinese message, label,
notes and suggestion; a part no entry matches stays in English, and
`untranslated(d)` lists such parts. tests/test_i18n.py runs every bad case
in tests/cases/check/bad/ and fails while any part is untranslated, so a new
message needs an entry here (and every entry carries an English example that
the tests translate).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import attrs

from .diagnostics import CODES, Diagnostic, Note, Severity

LANGS = ("en", "zh")

# ───────────────────────── the machinery ─────────────────────────

Translator = Callable[[str], "str | None"]

_HOLE = re.compile(r"\{(\w+)\}")
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")  # "应为 名称" → "应为名称"


def _tidy(text: str) -> str:
    """Drop a space between two Chinese characters ("应为 名称" → "应为名称"), but never inside `code`."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(p if i % 2 else _CJK_SPACE.sub("", p) for i, p in enumerate(parts))


def _shape_regex(shape: str) -> re.Pattern[str]:
    """Turn an English shape with `{holes}` into a regex with named groups."""
    out = []
    pos = 0
    for m in _HOLE.finditer(shape):
        out.append(re.escape(shape[pos : m.start()]))
        in_code = shape[m.start() - 1 : m.start()] == "`" and shape[m.end() : m.end() + 1] == "`"
        out.append(f"(?P<{m.group(1)}>{'[^`]*' if in_code else '.*?'})")
        pos = m.end()
    out.append(re.escape(shape[pos:]))
    return re.compile("".join(out), re.S)


@attrs.frozen
class Entry:
    """One message shape: English pattern, Chinese template, an English example."""

    shape: str
    template: str
    example: str
    subs: dict[str, Translator] = attrs.field(factory=dict)
    regex: re.Pattern[str] = attrs.field(init=False)

    @regex.default
    def _regex(self) -> re.Pattern[str]:
        return _shape_regex(self.shape)

    def apply(self, text: str) -> str | None:
        m = self.regex.fullmatch(text)
        if m is None:
            return None
        values = {}
        for name, value in m.groupdict().items():
            sub = self.subs.get(name)
            if sub is not None:
                value = sub(value)
                if value is None:
                    return None
            values[name] = value
        return _tidy(self.template.format(**values))


class Catalogue:
    """Entries tried in order; the first that matches (holes included) wins."""

    def __init__(self, name: str, entries: Iterable[Entry]):
        self.name = name
        self.entries = tuple(entries)

    def __call__(self, text: str) -> str | None:
        for e in self.entries:
            out = e.apply(text)
            if out is not None:
                return out
        return None


def E(shape: str, template: str, example: str | None = None, /, **subs: Translator) -> Entry:
    """An entry; the example defaults to the shape itself (for shapes without holes)."""
    return Entry(shape=shape, template=template, example=shape if example is None else example, subs=subs)


# ───────────────────────── pieces inside messages ─────────────────────────

_VALUE_KINDS = {
    "money": "金额",
    "a duration": "时长",
    "a count": "计数",
    "a percent": "百分比",
    "a number": "数字",
    "a condition (true/false)": "条件（真/假）",
    "text": "文本",
    "a list of names": "名称列表",
}


def value_kind(text: str) -> str | None:
    """A kind of value as `Type.describe()` says it: "a count", "a label (a, b) that may be N/A"."""
    na = text.endswith(" that may be N/A")
    base = text[: -len(" that may be N/A")] if na else text
    out = _VALUE_KINDS.get(base)
    if out is None:
        m = re.fullmatch(r"a (grade|label) \((.*)\)", base, re.S)
        if m is None:
            return None
        out = ("等级" if m.group(1) == "grade" else "标签") + f"（{m.group(2)}）"
    return out + ("（可能为 N/A）" if na else "")


_EXAMPLE_VALUES = Catalogue("example value", [
    E("the number {v}", "数字 {v}", "the number 3"),
    E("the label `{v}`", "标签 `{v}`", "the label `a`"),
    E("`true`", "`true`"),
    E("`false`", "`false`"),
    E("`na` (not applicable)", "`na`（不适用）"),
    E("a list", "列表"),
])


def example_value(text: str) -> str | None:
    """How an example's value is named in a message: "the number 3", "the label `a`"."""
    return _EXAMPLE_VALUES(text)


_RECORD_REASONS = Catalogue("record reason", [
    E("percent {v} outside {r}", "百分比 {v} 超出 {r}", "percent 4 outside [0, 1]"),
    E("{v} outside {r}", "{v} 超出 {r}", "12 outside [0, 10]"),
    E("{x} must be {alts}, got {v}", "{x} 必须是 {alts}，实际是 {v}", "standout must be 0 or in [2, 5], got 1"),
    E("negative {kind}: {v}", "负数的 {kind}：{v}", "negative money: -5"),
    E("negative count: {v}", "计数不能是负数：{v}", "negative count: -1"),
    E("not an integer: {v}", "不是整数：{v}", "not an integer: 1.5"),
    E("{v} is too large or too small for an assessment value", "{v} 作为考核数据太大或太小",
      "1E+40 is too large or too small for an assessment value"),
    E("{v} is not {words} label (expected e.g. {ex})", "{v} 不是合法的周期标签（例如 {ex}）",
      "'2026-13' is not a month label (expected e.g. 2026-11)"),
    E("the period is a quoted label", "周期要写成带引号的标签"),
])


def record_reason(text: str) -> str | None:
    """Why the record reader refuses a value (runtime.py's messages)."""
    return _RECORD_REASONS(text)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _and_list(text: str) -> str | None:
    """ "max, min and share" → "max、min 和 share" (names only)."""
    items = re.split(r", | and ", text)
    if not all(_IDENT.fullmatch(i) for i in items):
        return None
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + " 和 " + items[-1]


def _code_list(text: str) -> str | None:
    """ "`a`, `b`" → "`a`、`b`" (pieces of code only)."""
    if not re.fullmatch(r"`[^`]*`(, `[^`]*`)*", text):
        return None
    return "、".join(re.findall(r"`[^`]*`", text))


_EXPECTED_WORDS = {
    "a name": "名称",
    "a number": "数字",
    'a quoted string ("…")': "带引号的字符串（\"…\"）",
    "the end of the line": "行尾",
    "the end of the file": "文件末尾",
    "an indented block of rows": "缩进的行",
    "the end of the block": "块的结尾",
    "a formula": "公式",
    "a name followed by `=`": "后面跟着 `=` 的名称",
}


def _expected(text: str) -> str | None:
    """What the parser expected: "`+`, a name or the end of the line" → "`+`、名称或行尾"."""
    items = re.split(r", | or ", text)
    out = []
    for item in items:
        if item == "…":
            out.append("…")
        elif re.fullmatch(r"`[^`]*`", item) or _IDENT.fullmatch(item):
            out.append(item)
        elif item in _EXPECTED_WORDS:
            out.append(_EXPECTED_WORDS[item])
        else:
            return None
    if out[-1] == "…":
        return "、".join(out[:-1]) + " 等"
    return out[0] if len(out) == 1 else "、".join(out[:-1]) + " 或 " + out[-1]


_TOKEN = Catalogue("token", [
    E("name `{x}`", "名称 `{x}`", "name `late`"),
    E("number `{x}`", "数字 `{x}`", "number `5%`"),
    E("string", "字符串"),
    E("`{x}`", " `{x}`", "`=>`"),
])

_SYNTAX_WHAT = Catalogue("syntax", [
    E("the line ends too early", "这一行结束得太早了"),
    E("this line is indented, but nothing opened a block", "这一行有缩进，但上面没有开启块的行"),
    E("unexpected {tok}", "这里不应出现{tok}", "unexpected name `late`", tok=_TOKEN),
])

# What a value is, in messages such as "{what} must be a number, but this is …".
_WHAT = Catalogue("what", [
    E("this value", "这个值"),
    E("these values", "这些值"),
    E("a negated value", "取负的值"),
    E("the value before `beyond`", "`beyond` 前面的值"),
    E("the allowance after `beyond`", "`beyond` 后面的免计额度"),
    E("the rounded value", "要舍入的值"),
    E("the clamped value", "要限定范围的值"),
    E("the lower bound", "下限"),
    E("the upper bound", "上限"),
    E("an argument of `{f}`", "`{f}` 的参数", "an argument of `max`"),
    E("the argument of `{f}`", "`{f}` 的参数", "the argument of `abs`"),
    E("the arguments of `{f}`", "`{f}` 的各个参数", "the arguments of `min`"),
    E("what `count … over` counts", "`count … over` 所计数的内容"),
    E("the value of `{f}`", "`{f}` 的值", "the value of `rank`"),
    E("the amount split", "要拆分的金额"),
    E("a `require`", "`require` 条件"),
    E("a condition", "条件"),
    E("a critical criterion", "关键（critical）指标"),
    E("a criterion", "指标"),
    E("a gate condition", "门槛条件"),
    E("a row's condition", "行的条件"),
    E("the subject of `{f}`", "`{f}` 的比较对象", "the subject of `linear`"),
    E("a row of this table", "这个表的行"),
    E("the rounding step", "舍入步长"),
    E("the two sides of this comparison", "比较的两边"),
    E("the two sides of `{op}`", "`{op}` 两边的值", "the two sides of `+`"),
    E("the two branches of `{x}`", "`{x}` 的两个分支", "the two branches of `if … else`"),
    E("the value and its lower bound", "值和它的下限"),
    E("the value and its upper bound", "值和它的上限"),
    E("the value and its `{x}` value", "值和它的 `{x}` 值", "the value and its `when na` value"),
    E("the results of this table's rows", "这个表各行的结果"),
    E("the subject and this point", "比较对象和这个点"),
    E("the criteria of this weighted score", "这个加权得分的各项指标"),
    E("`{code}`", "`{code}`", "`beyond`"),
])


def _interval(text: str) -> str | None:
    """Values of a table subject as coverage.py shows them."""
    if re.fullmatch(r"[\[(][^,]*, [^,]*[\])]", text):
        return text
    return _INTERVAL_WORDS(text)


_NUMBER = re.compile(r"-?[0-9][0-9.,]*(%| s)?")


def _value_or_interval(text: str) -> str | None:
    """A range as soundness.py shows it: an interval, or one value."""
    return text if _NUMBER.fullmatch(text) else _interval(text)


def _side(text: str) -> str | None:
    """ "in [0, 130]" → "在 [0, 130] 之内"; "140" → "等于 140"."""
    if text.startswith("in "):
        iv = _interval(text[3:])
        return None if iv is None else f"在 {iv} 之内"
    return f"等于 {text}" if _NUMBER.fullmatch(text) else None


_CONDITION_VERDICT = Catalogue("verdict", [
    E("holds for every valid record", "对每条有效记录都成立"),
    E("can never hold", "永远不会成立"),
])

_INTERVAL_WORDS = Catalogue("interval", [
    E("the value {v}", "值 {v}", "the value 3"),
    E("values from {v} up", "{v} 及以上的值", "values from 3 up"),
    E("values up to {v}", "{v} 及以下的值", "values up to 3"),
    E("the values {a} to {b}", "{a} 到 {b} 的值", "the values 3 to 5"),
])

_KIND = {"kind": value_kind}

_UNITS = Catalogue("units", [
    E("{a} and {b} have different units", "{a}和{b}的单位不同", "money and a count have different units",
      a=value_kind, b=value_kind),
    E("multiplying {a} by {b} gives a unit policies do not have", "{a}乘以{b}得到的单位在方案中不存在",
      "multiplying money by a duration gives a unit policies do not have", a=value_kind, b=value_kind),
    E("dividing a number by {b} gives a unit policies do not have", "数字除以{b}得到的单位在方案中不存在",
      "dividing a number by money gives a unit policies do not have", b=value_kind),
    E("dividing {a} by {b} gives a unit policies do not have", "{a}除以{b}得到的单位在方案中不存在",
      "dividing money by a duration gives a unit policies do not have", a=value_kind, b=value_kind),
])


def _units_capitalised(text: str) -> str | None:
    return _UNITS(text[:1].lower() + text[1:]) if text[:1].isupper() else None


def _spaces(text: str) -> str | None:
    """ "1 space", "4 spaces" → "1 个空格", "4 个空格"."""
    m = re.fullmatch(r"(\d+) spaces?", text)
    return None if m is None else f"{m.group(1)} 个空格"


# ── the parser's explanations of syntax errors (E001–E004) ──


def _top_level_split(text: str) -> list[str]:
    """Split "a, b (c, d) or `e, f`" on ", " and " or ", but not inside brackets or code."""
    items, depth, code, start, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "`":
            code = not code
        elif code:
            pass
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0:
            for sep in (", ", " or "):
                if text.startswith(sep, i):
                    items.append(text[start:i])
                    i += len(sep)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    items.append(text[start:])
    return items


def _inner_list(text: str) -> str:
    """The codes inside "(`input`, `item` … or `name = …`)": commas → 、, or → 或."""
    return text.replace(", ", "、").replace(" or ", " 或 ")


_EXPECTED_THING = Catalogue("expected-thing", [
    E("a new statement ({codes})", "一条新语句（{codes}）", "a new statement (`input`, `item` … or `name = …`)",
      codes=_inner_list),
    E("a value (a number, a name or `( … )`)", "一个值（数字、名字或 `( … )`）"),
    E("an operator ({codes})", "运算符（{codes}）", "an operator (`+`, `-`, `*`)", codes=_inner_list),
    E("a comparison ({codes})", "比较（{codes}）", "a comparison (`<=`, `>=`, `=` …)", codes=_inner_list),
    E('a description in quotes ("…")', "引号里的说明（\"…\"）"),
    E("indented rows", "缩进的行"),
    E("`->` and a value", "`->` 和一个值"),
])


def _expected_words(text: str) -> str | None:
    """The fallback's list of what could come next: "a number, `(` or the end of the line"."""
    out = []
    for item in _top_level_split(text):
        if item in _EXPECTED_WORDS:
            out.append(_EXPECTED_WORDS[item])
        elif re.fullmatch(r"`[^`]*`", item):
            out.append(item)
        else:
            t = _EXPECTED_THING(item)
            if t is None:
                return None
            out.append(t)
    return out[0] if len(out) == 1 else "、".join(out[:-1]) + " 或 " + out[-1]


def _code_words(text: str) -> str | None:
    """ "`a`, `b` or `c`" → "`a`、`b` 或 `c`" (pieces of code only)."""
    items = _top_level_split(text)
    if not all(re.fullmatch(r"`[^`]*`", i) for i in items):
        return None
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + " 或 " + items[-1]


_UNEXPECTED = Catalogue("unexpected", [
    E("the file ends", "文件在这里结束了"),
    E("the line ends", "这一行在这里结束了"),
    E("an indented line", "缩进的行"),
    E("quoted text", "引号里的文字"),
    E("the number `{n}`", "数字 `{n}`", "the number `5`"),
    E("`{x}`", "`{x}`", "`=>`"),
])

_THEN_EXPECTED = Catalogue("then-expected", [
    E("expected {words}", "这里应为{words}", "expected a number, `(` or the end of the line", words=_expected_words),
    E("this cannot be read here", "这里读不懂"),
])

_HEADER_LINE = Catalogue("header-line", [
    E("the policy line", "方案行（policy）"),
    E("the period line", "周期行（period）"),
    E("the source line", "来源行（source）"),
    E("a cohort line", "分组行（cohort）"),
    E("the line that allows extra fields", "允许额外字段的行"),
    E("an input line", "输入项行（input）"),
    E("a constraint", "约束条件（require）"),
])

_TABLE_KIND = Catalogue("table-kind", [
    E("a `first` table", "`first` 表"),
    E("a range table", "区间表（table）"),
    E("a label map", "标签对照表（by）"),
    E("a piecewise-linear table", "分段线性表（linear）"),
    E("a table of marginal tiers", "超额累进表（marginal）"),
    E("a weighted score", "加权得分（weighted）"),
    E("a split", "拆分（split）"),
    E("a gate", "门槛（all/any）"),
])

_ROW_SHAPE = Catalogue("row-shape", [
    E("`{ex}`: a comparison with the subject, `->`, the value", "`{ex}`：与比较对象的比较、`->`、值",
      "`<= 5% -> 30`: a comparison with the subject, `->`, the value"),
    E("`{ex}`: a whole condition, `->`, the value", "`{ex}`：完整的条件、`->`、值",
      "`refund_rate <= 5% -> 30`: a whole condition, `->`, the value"),
    E("`{ex}`: a label (or `a | b`), `->`, the value", "`{ex}`：标签（或 `a | b`）、`->`、值",
      "`senior -> 2500`: a label (or `a | b`), `->`, the value"),
    E("`{ex}`: a point, x `->` y", "`{ex}`：一个点，x `->` y", "`10s -> 20`: a point, x `->` y"),
    E("`{ex}`: a slice `from .. to`, `->`, the rate", "`{ex}`：一段 `from .. to`、`->`、比率",
      "`0 .. 50000 -> 3%`: a slice `from .. to`, `->`, the rate"),
    E("`{ex}`: a weight and a value, or `critical` and a condition", "`{ex}`：权重和值，或者 `critical` 和条件",
      "`30% greeting`: a weight and a value, or `critical` and a condition"),
    E("`{ex}`: a name, `:`, a condition", "`{ex}`：名字、`:`、条件", "`dsr: dsr >= 4.8`: a name, `:`, a condition"),
    E("{codes}", "{codes}", "`<= 10s -> 100`, `> 10s, < 20s -> 90` or `0 .. 10 -> 5`", codes=_code_words),
])

_MISSING = Catalogue("missing", [
    E("the formula is missing after `=`", "`=` 后面缺少公式"),
    E("`round` needs the step to round to", "`round` 需要舍入的步长"),
    E("`clamp` needs a lowest and a highest value", "`clamp` 需要最小值和最大值"),
    E("a value is missing after `{w}`", "`{w}` 后面缺少值", "a value is missing after `per`"),
    E("a value to compare with is missing after `{w}`", "`{w}` 后面缺少要比较的值",
      "a value to compare with is missing after `<=`"),
    E("a condition is missing after `{w}`", "`{w}` 后面缺少条件", "a condition is missing after `if`"),
    E("the row's value is missing after `->`", "`->` 后面缺少这一行的值"),
    E("the amount to split is missing after `split`", "`split` 后面缺少要拆分的金额"),
    E("the type is missing after `:`", "`:` 后面缺少类型"),
    E("a name is missing after `{w}`: `{ex}`", "`{w}` 后面缺少名字：`{ex}`", "a name is missing after `input`: "
      "`input late : count`"),
    E("a name is missing after `{w}`", "`{w}` 后面缺少名字", "a name is missing after `,`"),
    E("a row needs `->` and its value", "一行需要 `->` 和它的值"),
])

_EXAMPLE = Catalogue("example", [
    E("`{a}` (to the cent) or `{b}`", "`{a}`（精确到分）或 `{b}`", "`round 0.01` (to the cent) or `round 1`"),
    E("`{ex}`", "`{ex}`", "`5 per late`"),
])

_MEANING = {"at least": "至少", "at most": "至多", "not equal": "不等于"}.get

_LABEL_RULE = Catalogue("label-rule", [
    E("separated by `|`", "用 `|` 分隔"),
    E("listed best first, separated by `>`", "从好到差排列，用 `>` 分隔"),
])

_UNIT_HINT = Catalogue("unit-hint", [
    E("money is a plain number: `{a}`, not `{b}`", "金额是普通数字：`{a}`，不是 `{b}`",
      "money is a plain number: `2000`, not `2000元`"),
    E("money is a plain number: `{a}`", "金额是普通数字：`{a}`", "money is a plain number: `2000`"),
    E("seconds are written `s`: `{ex}`", "秒写作 `s`：`{ex}`", "seconds are written `s`: `30s`"),
    E("minutes are written `min`: `{ex}`", "分钟写作 `min`：`{ex}`", "minutes are written `min`: `2min`"),
    E("hours are written `h`: `{ex}`", "小时写作 `h`：`{ex}`", "hours are written `h`: `24h`"),
    E("a day is written `{ex}`", "一天写作 `{ex}`", "a day is written `24h`"),
    E("points are plain numbers: `{a}`, not `{b}`", "分数是普通数字：`{a}`，不是 `{b}`",
      "points are plain numbers: `20`, not `20分`"),
    E("counts are plain numbers: `{a}`, not `{b}`", "次数是普通数字：`{a}`，不是 `{b}`",
      "counts are plain numbers: `3`, not `3次`"),
])

_LOOKALIKE = Catalogue("lookalike", [
    E("a full-width comma", "全角逗号"),
    E("an enumeration comma (、)", "顿号（、）"),
    E("a full-width colon", "全角冒号"),
    E("a full-width semicolon", "全角分号"),
    E("a full-width bracket", "全角括号"),
    E("a full-width minus", "全角减号"),
    E("a dash", "破折号"),
    E("a typographic minus sign", "排版用的减号"),
    E("a full-width percent sign", "全角百分号"),
    E("a full-width equals sign", "全角等号"),
    E("a full-width `{x}`", "全角的 `{x}`", "a full-width `>`"),
    E("a `{x}` sign", " `{x}` 符号", "a `≧` sign"),
    E("a full-width plus", "全角加号"),
    E("a full-width star", "全角星号"),
    E("a full-width slash", "全角斜杠"),
    E("a full-width bar", "全角竖线"),
    E("a full-width full stop", "全角句号"),
    E("a curly quote", "弯引号"),
    E("a corner bracket", "直角引号"),
    E("a title bracket", "书名号"),
    E("a curly single quote", "弯单引号"),
    E("a single quote", "单引号"),
    E("a full-width quote", "全角引号"),
    E("an arrow character", "箭头字符"),
    E("a wave dash", "波浪号"),
    E("a tilde", "波浪号（~）"),
    E("an ellipsis", "省略号"),
    E("a full-width space ({u})", "全角空格（{u}）", "a full-width space (U+3000)"),
    E("a non-breaking space ({u}), often pasted from Word", "不换行空格（{u}），常见于从 Word 粘贴来的文字",
      "a non-breaking space (U+00A0), often pasted from Word"),
    E("a square bracket", "方括号"),
    E("a curly bracket", "花括号"),
])

_USE = Catalogue("use", [
    E("an ordinary space", "普通空格"),
    E("`{x}`", " `{x}`", "`,`"),
])

_CONTINUES = Catalogue("continues", [
    E("the row above", "上一行"),
    E("line {n}", "第 {n} 行", "line 2"),
])

_NEW_WHAT = {"row": "新的一行", "statement": "一条新语句"}.get

_DEFINED_ON = Catalogue("defined-on", [
    E("", ""),
    E(" (defined on line {n})", "（定义在第 {n} 行）", " (defined on line 3)"),
])


_DEF_KIND = {"item": "考核项（item）", "pay": "薪酬项（pay）"}.get

# ───────────────────────── messages ─────────────────────────

MESSAGES = Catalogue("message", [
    # E001–E004: reading the text
    E("a `:` at the end of a line must be followed by indented rows", "行尾有 `:` 时，下面必须跟着缩进的行"),
    E("the file ends in the middle of a statement", "文件在一条语句的中间就结束了"),
    E("{what}; expected ", "{what}", "unexpected `input`; expected ", what=_SYNTAX_WHAT),
    E("{what}; expected {expected}", "{what}；这里应为 {expected}",
      "unexpected name `late`; expected `)`, `*`, `+`, `,`, `-`, `/`, `:`, `<`, …",
      what=_SYNTAX_WHAT, expected=_expected),
    E("a tab is used; indent and separate with spaces", "用了制表符（Tab）；缩进和分隔都请用空格"),
    E("a tab is used for indentation; indent with spaces", "用制表符（Tab）缩进了；请用空格缩进"),
    E("this line's indentation matches no line above it", "这一行的缩进和上面任何一行都对不齐"),
    E("the first row is indented by {a}, but the row after it by {b}; the rows of a block must line up",
      "第一行缩进了 {a}，而它后面的行缩进了 {b}；一个块里的各行必须对齐",
      "the first row is indented by 6 spaces, but the row after it by 4 spaces; the rows of a block must line up",
      a=_spaces, b=_spaces),
    E("this line is indented by {w}, which lines up with no line above it: the rows above are indented by {rows}, "
      "the line that opened them by {outer}",
      "这一行缩进了 {w}，和上面任何一行都对不齐：上面的行缩进了 {rows} 个空格，开启它们的那一行缩进了 {outer} 个空格",
      "this line is indented by 2 spaces, which lines up with no line above it: the rows above are indented by 4, "
      "the line that opened them by 0", w=_spaces),
    E("this row is indented by {a}, but the first row, on line {n}, by {b}; the rows of a block must line up",
      "这一行缩进了 {a}，而第一行（第 {n} 行）缩进了 {b}；一个块里的各行必须对齐",
      "this row is indented by 4 spaces, but the first row, on line 8, by 8; the rows of a block must line up",
      a=_spaces, b=lambda t: t),
    E("this is a full-width space (U+3000); use an ordinary space", "这是全角空格（U+3000）；请用普通的半角空格"),
    E("`{x}` is not a word policyc knows here; did you mean `{g}`?", "`{x}` 不是 policyc 在这里认识的词；是不是要写 `{g}`？",
      "`iput` is not a word policyc knows here; did you mean `input`?"),
    E("this string is not closed before the end of the line", "这个字符串到行尾还没有结束（缺少右引号）"),
    E("the character {ch} has no meaning here", "字符 {ch} 在这里没有意义", "the character '，' has no meaning here"),
    # the parser's explanations (E001–E004)
    E("policyc cannot read this line", "policyc 读不懂这一行"),
    E("the `(` is never closed", "这个 `(` 没有闭合"),
    E("the `(` on line {n} is never closed, so the lines after it are read as part of it",
      "第 {n} 行的 `(` 没有闭合，所以它后面的行都被当成了括号里的内容",
      "the `(` on line 3 is never closed, so the lines after it are read as part of it"),
    E("this line is indented deeper than {a}, so it continues {b} instead of starting a new {what}",
      "这一行比{a}缩进得深，所以被当成{b}的延续，而不是{what}",
      "this line is indented deeper than line 2, so it continues line 2 instead of starting a new statement",
      a=_CONTINUES, b=_CONTINUES, what=_NEW_WHAT),
    E("`{w}` is a keyword here: at the start of a line it starts {what} (`{ex}`), so it cannot be the name of a value",
      "`{w}` 在这里是关键字：写在行首时它开始{what}（`{ex}`），所以不能用作值的名字",
      "`period` is a keyword here: at the start of a line it starts the period line (`period month`), so it cannot "
      "be the name of a value", what=_HEADER_LINE),
    E("`{w}` is a keyword here: right after `=` it starts {what} (`{ex}`), so it cannot be used as a name",
      "`{w}` 在这里是关键字：紧跟在 `=` 后面时它开始{what}（`{ex}`），所以不能用作名字",
      "`first` is a keyword here: right after `=` it starts a `first` table (`first refund_rate: …`), so it cannot "
      "be used as a name", what=_TABLE_KIND),
    E("`{w}` is a keyword here: right after `=` it starts {what} (`{ex}`)",
      "`{w}` 在这里是关键字：紧跟在 `=` 后面时它开始{what}（`{ex}`）",
      "`all` is a keyword here: right after `=` it starts a gate (`all: …`)", what=_TABLE_KIND),
    E("the total needs `pts`: `{ex}`", "总分要带 `pts`：`{ex}`", "the total needs `pts`: `total 100 pts`"),
    E("an item's maximum needs `pts`: `{ex}`", "考核项的满分要带 `pts`：`{ex}`",
      "an item's maximum needs `pts`: `item q 20 pts = …`"),
    E("an item needs its maximum in points before `=`: `{ex}`", "考核项要在 `=` 前面写上满分：`{ex}`",
      "an item needs its maximum in points before `=`: `item q 20 pts = …`"),
    E("`{op}` is not a comparison; write `{fix}` ({meaning})", "`{op}` 不是比较符号；请写 `{fix}`（{meaning}）",
      "`=>` is not a comparison; write `>=` (at least)", meaning=_MEANING),
    E("write `{fix}` with no space between `{a}` and `=`", "写成 `{fix}`，`{a}` 和 `=` 之间不要有空格",
      "write `>=` with no space between `>` and `=`"),
    E("a row's value comes after `->`; `=>` is not an arrow", "一行的值写在 `->` 后面；`=>` 不是箭头"),
    E("a row's value comes after `->`, not after `{x}`", "一行的值写在 `->` 后面，不是 `{x}` 后面",
      "a row's value comes after `->`, not after `:`"),
    E("`->` is missing between the row's condition and its value", "这一行的条件和值之间缺少 `->`"),
    E("the labels of a `{word}` are {how}: `{ex}`", "`{word}` 的标签要{how}：`{ex}`",
      "the labels of a `choice` are separated by `|`: `choice normal | senior | lead`", how=_LABEL_RULE),
    E("a `{word}` needs two or more labels, {how}", "`{word}` 至少需要两个标签，{how}",
      "a `grade` needs two or more labels, listed best first, separated by `>`", how=_LABEL_RULE),
    E("the labels of a `choice` are separated by `|`, not `or`: `{ex}`", "`choice` 的标签用 `|` 分隔，不是 `or`：`{ex}`",
      "the labels of a `choice` are separated by `|`, not `or`: `choice a | b`"),
    E("the rows of `{header}` compare `{subject}`, so each row starts with the comparison (`{ex}`), not with a value",
      "`{header}` 的各行是和 `{subject}` 比较，所以每一行以比较开头（`{ex}`），而不是以值开头",
      "the rows of `first refund_rate:` compare `refund_rate`, so each row starts with the comparison "
      "(`<= 5% -> 30`), not with a value"),
    E("the rows of `first:` (no subject) are whole conditions, so a row cannot start with `{op}`",
      "`first:`（没有比较对象）的各行是完整的条件，所以一行不能以 `{op}` 开头",
      "the rows of `first:` (no subject) are whole conditions, so a row cannot start with `<=`"),
    E("`{op}` cannot come here: a row of `{header}` looks like {shape}",
      "`{op}` 不能出现在这里：`{header}` 的一行写成这样：{shape}",
      "`<` cannot come here: a row of `by level:` looks like `senior -> 2500`: a label (or `a | b`), `->`, the value",
      shape=_ROW_SHAPE),
    E("{what} needs `:` before its rows: `{ex}`", "{what}在各行之前需要 `:`：`{ex}`",
      "a `first` table needs `:` before its rows: `first refund_rate: …`", what=_TABLE_KIND),
    E("an `if` needs an `else`: what is the value when the condition does not hold?",
      "`if` 需要 `else`：条件不成立时，值是多少？"),
    E("the line above ends with `:`, so this indented line is read as its rows, but nothing there takes rows",
      "上一行以 `:` 结尾，所以这行缩进的内容被当成它的各行，但那里不接受行"),
    E("an input's name is followed by `:` and its type: `{ex}`", "输入项的名字后面要跟 `:` 和类型：`{ex}`",
      "an input's name is followed by `:` and its type: `input late : count`"),
    E("a name cannot contain spaces: write `{x}`", "名字里不能有空格：请写成 `{x}`",
      "a name cannot contain spaces: write `refund_rate`"),
    E("a name cannot contain spaces: did you mean `{x}`?", "名字里不能有空格：是不是要写 `{x}`？",
      "a name cannot contain spaces: did you mean `refund_rate`?"),
    E("`=` is missing: a definition is written `{ex}`", "缺少 `=`：定义要写成 `{ex}`",
      "`=` is missing: a definition is written `pay bonus = formula`"),
    E("a definition is written with `=`, not `:`", "定义用 `=`，不是 `:`"),
    E("a range is written with `..`: `{ex}`", "范围用 `..` 表示：`{ex}`", "a range is written with `..`: `0..10`"),
    E("this `)` has no matching `(`", "这个 `)` 没有对应的 `(`"),
    E("the line ends too early: {what}", "这一行结束得太早了：{what}", "the line ends too early: a value is missing "
      "after `per`", what=_MISSING),
    E("the file ends too early: {what}", "文件结束得太早了：{what}", "the file ends too early: a value is missing "
      "after `else`", what=_MISSING),
    E("the line ends too early: {then}", "这一行结束得太早了：{then}",
      "the line ends too early: expected `else` or the end of the line", then=_THEN_EXPECTED),
    E("the file ends too early: {then}", "文件结束得太早了：{then}", "the file ends too early: expected a number",
      then=_THEN_EXPECTED),
    E("{what}, before `{x}`", "{what}，在 `{x}` 之前", "a value is missing after `per`, before `+`", what=_MISSING),
    E("{what}, before the quoted text", "{what}，在引号里的文字之前",
      "a value is missing after `per`, before the quoted text", what=_MISSING),
    E("{what}", "{what}", "the type is missing after `:`", what=_MISSING),
    E("{what} cannot come here: {then}", "{what}不能出现在这里：{then}",
      "the number `5` cannot come here: expected the end of the line", what=_UNEXPECTED, then=_THEN_EXPECTED),
    E("keywords are written in lower case: `{g}`, not `{x}`", "关键字要小写：`{g}`，不是 `{x}`",
      "keywords are written in lower case: `else`, not `ELSE`"),
    E("`{x}` cannot come here; did you mean `{g}`?", "`{x}` 不能出现在这里；是不是要写 `{g}`？",
      "`esle` cannot come here; did you mean `else`?"),
    E("`{x}` is not a unit policyc knows: {hint}", "`{x}` 不是 policyc 认识的单位：{hint}",
      "`元` is not a unit policyc knows: money is a plain number: `2000`, not `2000元`", hint=_UNIT_HINT),
    E("a table (`{t}`) must be the whole formula of its definition", "表格（`{t}`）必须单独构成一个定义的整个公式",
      "a table (`first complaints: …`) must be the whole formula of its definition"),
    E("two values with no operator between them: `{a}` and `{b}`", "两个值之间没有运算符：`{a}` 和 `{b}`",
      "two values with no operator between them: `5` and `late`"),
    E('this string is closed with a curly quote `{q}`; close it with a straight quote `"`',
      '这个字符串用弯引号 `{q}` 结束了；请用直引号 `"` 结束',
      'this string is closed with a curly quote `”`; close it with a straight quote `"`'),
    E("a `%` is written straight after its number, with no space: `{ex}`", "`%` 要紧跟在数字后面，中间不要有空格：`{ex}`",
      "a `%` is written straight after its number, with no space: `5%`"),
    E("`%` can only come straight after a number (`5%`)", "`%` 只能紧跟在数字后面（`5%`）"),
    E("a number starts with a digit: write `{a}`, not `{b}`", "数字要以数字开头：写 `{a}`，不要写 `{b}`",
      "a number starts with a digit: write `0.5`, not `.5`"),
    E("`{ch}` is {what}; policyc has no use for it", "`{ch}` 是{what}；policyc 用不到它",
      "`；` is a full-width semicolon; policyc has no use for it", what=_LOOKALIKE),
    E('`{ch}` is {what}; quoted text uses straight double quotes: `"…"`', '`{ch}` 是{what}；引号里的文字要用直双引号：`"…"`',
      '`“` is a curly quote; quoted text uses straight double quotes: `"…"`', what=_LOOKALIKE),
    E("`{ch}` is {what}; write the values without brackets", "`{ch}` 是{what}；列出取值时不要加括号",
      "`{` is a curly bracket; write the values without brackets", what=_LOOKALIKE),
    E("`{ch}` is {what}; use {use}", "`{ch}` 是{what}；请用{use}", "`，` is a full-width comma; use `,`",
      what=_LOOKALIKE, use=_USE),
    E("an invisible character ({code}, {name}) is here", "这里有一个看不见的字符（{code}，{name}）",
      "an invisible character (U+200B, zero width space) is here"),
    E("`{ch}` is a full-width character; use `{r}`", "`{ch}` 是全角字符；请用 `{r}`", "`Ａ` is a full-width character; use `A`"),
    E("the character `{ch}` has no meaning in a policy", "字符 `{ch}` 在方案里没有意义",
      "the character `&` has no meaning in a policy"),
    E("the character {ch} has no meaning in a policy", "字符 {ch} 在方案里没有意义",
      "the character U+0007 has no meaning in a policy"),
    # E101–E108: the header and the inputs
    E("the file has no `policy` line naming the policy", "文件里没有给方案命名的 `policy` 行"),
    E("`{what}` is given twice", "`{what}` 写了两次", "`period` is given twice"),
    E("`{x}` is not a period kind ({kinds})", "`{x}` 不是周期类型（{kinds}）",
      "`monthly` is not a period kind (month, half_month, quarter, year)"),
    E("`{x}` is not an input type", "`{x}` 不是输入类型", "`integer` is not an input type"),
    E("a {kind} input has labels, not a range of numbers", "{kind} 类型的输入项取值是标签，不能写数值范围",
      "a choice input has labels, not a range of numbers"),
    E("this range is empty: its start is above its end", "这个范围是空的：起点大于终点"),
    E("a percent is between 0 and 1 (0.85 means 85%), so {num} is outside it",
      "百分比在 0 到 1 之间（0.85 表示 85%），{num} 超出了这个范围",
      "a percent is between 0 and 1 (0.85 means 85%), so 85 is outside it"),
    E("a time unit on a {kind} input", "{kind} 类型的输入项不能带时间单位", "a time unit on a count input"),
    E("a percent on a {kind} input", "{kind} 类型的输入项不能用百分号", "a percent on a points input"),
    E("the label `{x}` is listed twice", "标签 `{x}` 列出了两次", "the label `良` is listed twice"),
    E("`{x}` already has a row in this table", "`{x}` 在这个表里已经有一行了", "`良` already has a row in this table"),
    E("two conditions of this gate are named `{x}`", "这个门槛里有两个条件都叫 `{x}`",
      "two conditions of this gate are named `达标`"),
    E("there is no cohort `{x}`", "没有名为 `{x}` 的分组（cohort）", "there is no cohort `team`"),
    E("`{x}` is part of every record already; choose another name", "`{x}` 是每条记录本来就有的字段；请换一个名字",
      "`agent` is part of every record already; choose another name"),
    E("`{x}` is part of every record already; it cannot be an input",
      "`{x}` 是每条记录本来就有的字段；不能再作为输入项", "`agent` is part of every record already; it cannot be an input"),
    # E201–E206: names
    E("`{x}` is not defined", "`{x}` 没有定义", "`bonous` is not defined"),
    E("`items` is the sum of the policy's items, but it has no `item`",
      "`items` 是方案中所有考核项（item）的总和，但这个方案没有任何 `item`"),
    E("a `require` may use inputs only, and `{x}` is a definition", "`require` 只能用输入项，而 `{x}` 是一个定义",
      "a `require` may use inputs only, and `penalty` is a definition"),
    E("a cohort is formed by inputs, and `{x}` is not one", "分组（cohort）只能按输入项划分，而 `{x}` 不是输入项",
      "a cohort is formed by inputs, and `小组` is not one"),
    E("formulas cannot read `{x}`: it identifies the record, it is not a measure",
      "公式不能读取 `{x}`：它用来标识记录，不是考核数据",
      "formulas cannot read `agent`: it identifies the record, it is not a measure"),
    E("`{x}` is defined twice", "`{x}` 定义了两次", "`late` is defined twice"),
    E("the cohort `{x}` is declared twice", "分组 `{x}` 声明了两次", "the cohort `team` is declared twice"),
    E("the input `{x}` is declared twice", "输入项 `{x}` 声明了两次", "the input `late` is declared twice"),
    E("these definitions depend on each other in a circle: {names}", "这些定义互相依赖，形成了循环：{names}",
      "these definitions depend on each other in a circle: total → bonus → total"),
    E("there is no function `{f}`", "没有名为 `{f}` 的函数", "there is no function `average`"),
    E("`abs` takes one value, but {n} are given", "`abs` 只接受一个值，但这里给了 {n} 个",
      "`abs` takes one value, but 2 are given"),
    E("`{f}` takes the name of a gate defined with `all` or `any`", "`{f}` 的参数必须是用 `all` 或 `any` 定义的门槛的名字",
      "`failed` takes the name of a gate defined with `all` or `any`"),
    E("`over` works with {funcs}, with one argument: `{ex}`", "`over` 只能用于 {funcs}，而且只能有一个参数：`{ex}`",
      "`over` works with max, min, sum, mean, count, rank and share, with one argument: `max(x over team)`",
      funcs=_and_list),
    E("`{f}` compares an agent with a cohort: write `{ex}`", "`{f}` 是把客服和所在分组比较：请写成 `{ex}`",
      "`rank` compares an agent with a cohort: write `rank(x over team)`"),
    E("`{f}` takes one argument", "`{f}` 只接受一个参数", "`streak` takes one argument"),
    E("`{f}` needs at least one argument", "`{f}` 至少需要一个参数", "`max` needs at least one argument"),
    E("`{f}` needs a value before `over`", "`{f}` 在 `over` 前面需要一个值", "`sum` needs a value before `over`"),
    E("`{x}` is not one of the labels here ({labels})", "`{x}` 不是这里可以用的标签（{labels}）",
      "`manager` is not one of the labels here (normal, senior, lead)"),
    E("`{x}` is not a label of `{y}` ({labels})", "`{x}` 不是 `{y}` 的标签（{labels}）",
      "`senoir` is not a label of `level` (normal, senior, lead)"),
    # E301–E311: values, units and tables
    E("a `label` definition gives a label, but this gives {kind}", "`label` 定义应当给出标签，但这里给出的是{kind}",
      "a `label` definition gives a label, but this gives a number", **_KIND),
    E("{what} must be true or false, but this is {kind}", "{what}必须是真或假，但这里是{kind}",
      "a condition must be true or false, but this is a count", what=_WHAT, kind=value_kind),
    E("{what} must be a number, but this is {kind}", "{what}必须是数字，但这里是{kind}",
      "this value must be a number, but this is a label (normal, senior, lead)", what=_WHAT, kind=value_kind),
    E("only grades are ordered; these labels can only be compared with `=` or `!=`",
      "只有等级（grade）分先后；这些标签只能用 `=` 或 `!=` 比较"),
    E("{what}: labels of different kinds ({a} / {b})", "{what}：标签种类不同（{a} / {b}）",
      "the two sides of this comparison: labels of different kinds (a, b / c, d)", what=_WHAT),
    E("{what}: {a} and {b} cannot be mixed", "{what}：{a}和{b}不能混用",
      "the two branches of `if … else`: text and a number cannot be mixed", what=_WHAT, a=value_kind, b=value_kind),
    E("`{x}` is {kind}; cohorts are formed by text, labels or counts", "`{x}` 是{kind}；分组只能按文本、标签或计数划分",
      "`score` is a number; cohorts are formed by text, labels or counts", **_KIND),
    E("`{x}` is a cohort; use it with `over`, as in `{ex}`", "`{x}` 是一个分组；要和 `over` 一起用，例如 `{ex}`",
      "`team` is a cohort; use it with `over`, as in `max(x over team)`"),
    E("{kind} can only be compared with `=` or `!=`", "{kind}只能用 `=` 或 `!=` 比较",
      "text can only be compared with `=` or `!=`", **_KIND),
    E("cannot compare {a} with {b}", "不能把{a}和{b}相比较", "cannot compare text with a number",
      a=value_kind, b=value_kind),
    E("`per` counts occurrences, but `{x}` is {kind}", "`per` 按次数计算，但 `{x}` 是{kind}",
      "`per` counts occurrences, but `sales` is money", **_KIND),
    E("an item is points, but this formula gives {kind}", "考核项（item）是分数，但这个公式给出的是{kind}",
      "an item is points, but this formula gives money", **_KIND),
    E("an item's maximum is a number of points", "考核项的满分必须是分数（不带单位）"),
    E("pay is money, but this formula gives {kind}", "薪酬（pay）是金额，但这个公式给出的是{kind}",
      "pay is money, but this formula gives a count", **_KIND),
    E("{what}: {units}", "{what}：{units}", "the two sides of `+`: money and a count have different units",
      what=_WHAT, units=_UNITS),
    E("{units}", "{units}", "Multiplying money by a duration gives a unit policies do not have",
      units=_units_capitalised),
    E("`{x}` is never N/A, so `when na` has nothing to do", "`{x}` 不会是 N/A，所以 `when na` 不起作用",
      "`upsell` is never N/A, so `when na` has nothing to do"),
    E("a value that may be N/A is compared; say what it counts as with `when na`",
      "比较了一个可能为 N/A（不适用）的值；请用 `when na` 说明这时按什么算"),
    E("this {kind} may be N/A (not applicable); say what it counts as then",
      "这个{kind}可能为 N/A（不适用）；请说明这时按什么算",
      "this item may be N/A (not applicable); say what it counts as then", kind=_DEF_KIND),
    E("{what} may be N/A here; say what it counts as with `when na`",
      "{what}在这里可能为 N/A（不适用）；请用 `when na` 说明这时按什么算",
      "this value may be N/A here; say what it counts as with `when na`", what=_WHAT),
    E("`{x}` can be zero, and the policy does not say what this division gives then",
      "`{x}` 可能为零，而方案没有说明这时这个除法得多少",
      "`inquiries` can be zero, and the policy does not say what this division gives then"),
    E("a share divides by the cohort's sum, which can be zero; say what it gives then",
      "share 要除以分组的总和，而总和可能为零；请说明这时得多少"),
    E("division by zero", "除数为零"),
    E("`by` maps labels, and `{x}` is a condition (true/false)", "`by` 按标签取值，而 `{x}` 是条件（真/假）",
      "`by` maps labels, and `qualified` is a condition (true/false)"),
    E("`by` maps labels, but `{x}` is {kind}", "`by` 按标签取值，但 `{x}` 是{kind}",
      "`by` maps labels, but `score` is a number", **_KIND),
    E("`else` must be the last row: the rows after it can never be reached", "`else` 必须是最后一行：它后面的行永远用不到"),
    E("a linear table needs at least two points", "线性表（linear）至少需要两个点"),
    E("a range table needs a number, but `{x}` is {kind}", "区间表（table）需要数字，但 `{x}` 是{kind}",
      "a range table needs a number, but `level` is a label (normal, senior, lead)", **_KIND),
    E("a table has at most one `else` row", "一个表最多只能有一行 `else`"),
    E("a weight must be positive", "权重必须是正数"),
    E("each slice must start where the one before it ends", "每一段都必须从上一段结束的地方开始"),
    E("the points of a linear table must go up in x", "线性表的点必须按 x 从小到大排列"),
    E("only the last slice may be open-ended", "只有最后一段可以不写上限"),
    E("a slice must end above where it starts", "每一段的终点都必须大于起点"),
    E("a weighted row is `30% criterion` or `critical condition`",
      "加权表（weighted）的行要写成 `30% criterion` 或 `critical condition`"),
    E("a weighted score needs at least one weighted criterion", "加权得分至少需要一个带权重的指标"),
    E("a gate's rows are conditions, optionally named: `{ex}`", "门槛（all/any）的每一行是一个条件，可以带名字：`{ex}`",
      "a gate's rows are conditions, optionally named: `dsr: dsr >= 4.8`"),
    E("this table compares a subject; a row starts with a comparison like `{ex}`",
      "这个表是拿一个值做比较；每一行要以比较开头，例如 `{ex}`",
      "this table compares a subject; a row starts with a comparison like `<= 5%`"),
    E("this row compares, but the table has no subject: write `{ex}`", "这一行是比较，但这个表没有比较对象：请写成 `{ex}`",
      "this row compares, but the table has no subject: write `first x:`"),
    E("this kind of row does not belong in this table", "这种行不能出现在这个表里"),
    E("a `by` table's rows are labels: `{ex}`", "`by` 表的每一行以标签开头：`{ex}`",
      "a `by` table's rows are labels: `优 -> 20`"),
    E("this row does not fit a `{kind}` table: each row is `{ex}`", "这一行不符合 `{kind}` 表的写法：每一行写成 `{ex}`",
      "this row does not fit a `linear` table: each row is `x -> y`"),
    E("the lower bound is above the upper bound, so every value would be clamped", "下限大于上限，所有值都会被截断"),
    E("no row for {labels}: every label of `{x}` needs a row, or add `else ->`",
      "没有 {labels} 的行：`{x}` 的每个标签都需要一行，或者加上 `else ->`",
      "no row for `lead`, `intern`: every label of `level` needs a row, or add `else ->`", labels=_code_list),
    E("{n} names but {m} ratios: each part needs a name", "有 {n} 个名字，却有 {m} 个比例：每一份都需要一个名字",
      "2 names but 3 ratios: each part needs a name"),
    E("several names can only be defined by a `split`", "只有 `split` 才能一次定义多个名字"),
    E("split ratios must be positive", "拆分比例必须是正数"),
    E("the parts add up to {p}, not 100%", "各部分加起来是 {p}，不是 100%", "the parts add up to 90%, not 100%"),
    E("`{x}` is not a rounding mode ({modes})", "`{x}` 不是舍入方式（{modes}）",
      "`half_down` is not a rounding mode (half_up, half_even, up, down)"),
    E("the rounding step must be a positive decimal number, like 0.01", "舍入步长必须是正的小数，例如 0.01"),
    E("the rounding step must be a positive number, like 0.01", "舍入步长必须是正数，例如 0.01"),
    E("{what} must be a fixed number written in the policy", "{what}必须是方案里直接写出的固定数字",
      "the rounding step must be a fixed number written in the policy", what=_WHAT),
    E("no row covers {values}: a value such as {v} would find no row",
      "没有任何一行覆盖 {values}：例如 {v} 这样的值会找不到对应的行",
      "no row covers (8%, 100%]: a value such as 54% would find no row", values=_interval),
    E("rows `{a}` and `{b}` both hold for {values}; in a `table` exactly one row may hold",
      "`{a}` 和 `{b}` 这两行在 {values} 时同时成立；`table` 里只能恰好有一行成立",
      "rows `<= 20s -> 100` and `>= 10s -> 60` both hold for [10 s, 20 s]; in a `table` exactly one row may hold",
      values=_interval),
    E("the total is a positive number of points, like `{ex}`", "总分（total）必须是正的分数，例如 `{ex}`",
      "the total is a positive number of points, like `total 100 pts`"),
    E("row `{r}` can never match: `{x}` never takes such a value", "`{r}` 这一行永远不会匹配：`{x}` 不会取到这样的值",
      "row `> 120% -> 0` can never match: `refund_rate` never takes such a value"),
    E("row `{r}` can never match: every value it covers is taken by an earlier row",
      "`{r}` 这一行永远不会匹配：它覆盖的每个值都已经被前面的行占了",
      "row `>= 5 -> -10` can never match: every value it covers is taken by an earlier row"),
    E("the items' maxima add up to {a} pts, but the policy declares `total {b} pts`",
      "各考核项的满分加起来是 {a} 分，但方案声明的是 `total {b} pts`",
      "the items' maxima add up to 95 pts, but the policy declares `total 100 pts`"),
    E("the weights add up to {p}, not 100%", "各权重加起来是 {p}，不是 100%", "the weights add up to 90%, not 100%"),
    E("this condition {what}: the left side is always {a} and the right side {b}",
      "这个条件{what}：左边的值总是{a}，右边的值总是{b}",
      "this condition can never hold: the left side is always in [0, 130] and the right side 140",
      what=_CONDITION_VERDICT, a=_side, b=_side),
    E("an ignore comment must say why the finding is intended", "忽略注释（ignore）必须写明为什么这个问题是有意的"),
    E("this file says it is rejected with {codes}, but {problem}", "这个文件声明它会因 {codes} 被拒绝，但{problem}",
      "this file says it is rejected with E310, but the policy checks clean",
      codes=lambda t: t, problem=lambda t: {"the policy checks clean": "方案检查通过了", "it gives no reason": "没有写原因"}.get(
          t, ("它有 " + t[len("it has "):]) if t.startswith("it has ") else None)),
    E("`{x}` is worth {n} pts, but it can never score more than {m}", "`{x}` 满分是 {n} 分，但它最多只能得到 {m} 分",
      "`attendance` is worth 30 pts, but it can never score more than 10"),
    E("before its bounds, `{x}` can be anywhere in {values}; the bounds decide for the records outside them",
      "在限定上下限之前，`{x}` 可以是 {values} 中的任何值；超出范围的记录由上下限决定",
      "before its bounds, `total` can be anywhere in (-∞, ∞); the bounds decide for the records outside them",
      values=_value_or_interval),
    E("rows `{a}` and `{b}` give the same result and their values meet; they could be one row",
      "`{a}` 和 `{b}` 这两行结果相同，取值又相接；可以合并成一行",
      "rows `>= 98% -> 100` and `>= 95% -> 100` give the same result and their values meet; they could be one row"),
    E("`{x}` is marked `{direction}`, but row `{b}` gives {vb} for a {quality} value (such as {ex}) than row `{a}`, "
      "which gives {va}",
      "`{x}` 标明了 `{direction}`，但 `{b}` 这一行对{quality}的值（例如 {ex}）给出 {vb}，而 `{a}` 这一行给出的是 {va}",
      "`reply_rate` is marked `higher is better`, but row `= 100% -> 80` gives 80 for a better value (such as 100%) "
      "than row `>= 98% -> 90`, which gives 90",
      quality={"better": "更好", "worse": "更差"}.get),
    # W401–W402
    E("the input `{x}` is not used by any definition", "输入项 `{x}` 没有被任何定义用到",
      "the input `late` is not used by any definition"),
    E("`{x}` is computed but nothing uses it", "`{x}` 算出来了，但没有任何地方用到它", "`penalty` is computed but nothing uses it"),
    # E601–E605, W406: examples
    E("there are two examples named `{x}`", "有两个例子都叫 `{x}`", "there are two examples named `full`"),
    E("there is no example named `{x}` to start from", "没有名为 `{x}` 的例子可以作为起点",
      "there is no example named `ful` to start from"),
    E("example `{x}` starts from itself through `from`", "例子 `{x}` 经过 `from` 又以自己为起点",
      "example `full` starts from itself through `from`"),
    E("`{x}` is given twice for the same record", "同一条记录里 `{x}` 给了两次", "`late` is given twice for the same record"),
    E("the example gives no record", "这个例子没有给出任何记录"),
    E("two records of the example are agent {a} in period {p}", "例子里有两条记录都是客服 {a} 在周期 {p} 的记录",
      "two records of the example are agent 'A1' in period '2026-01'"),
    E("an example expects both a rejection and values", "一个例子不能既要求记录被拒绝，又要求算出数值"),
    E("the example expects nothing, so it tests nothing", "这个例子没有写任何期望值（expect），所以什么也没有检验"),
    E("`{x}` is computed by the policy; an example gives inputs only", "`{x}` 是方案算出来的值；例子里只能给输入项",
      "`total` is computed by the policy; an example gives inputs only"),
    E("`{x}` is not an input of the policy", "`{x}` 不是这个方案的输入项", "`lates` is not an input of the policy"),
    E("the agent is a name or a quoted text, like `agent = 张伟`",
      "客服（agent）要写成名字或带引号的文字，例如 `agent = 张伟`"),
    E("{reason}; write it quoted, like `period = \"{p}\"`", "{reason}；请加引号，例如 `period = \"{p}\"`",
      "'2026-13' is not a month label (expected e.g. 2026-11); write it quoted, like `period = \"2026-01\"`",
      reason=lambda t: record_reason(t)),
    E("`{x}` cannot be N/A (its domain has no `or na`)", "`{x}` 不能是 N/A（它的取值范围没有 `or na`）",
      "`late` cannot be N/A (its domain has no `or na`)"),
    E("`{x}` is a label ({labels}), not {what}", "`{x}` 是标签（{labels}），不能是{what}",
      "`level` is a label (normal, senior), not the number 3", what=lambda t: example_value(t)),
    E("`{x}` is text; write it in quotes", "`{x}` 是文本；请加引号", "`team` is text; write it in quotes"),
    E("`{x}` is true or false, not {what}", "`{x}` 只能是真或假，不能是{what}", "`vip` is true or false, not the number 1",
      what=lambda t: example_value(t)),
    E("`{x}` is {kind}; `{v}` has the wrong unit", "`{x}` 是{kind}；`{v}` 的单位不对",
      "`late` is a count; `5%` has the wrong unit", kind=value_kind),
    E("`{x}` cannot be {v}: {reason}", "`{x}` 不能是 {v}：{reason}", "`refund_rate` cannot be 4: percent 4 outside [0, 1]",
      reason=lambda t: record_reason(t)),
    E("the example has several records; say whose values these are", "这个例子有多条记录；请说明这些期望值属于哪一条"),
    E("the example has no record for agent {a} in period {p}", "例子里没有客服 {a} 在周期 {p} 的记录",
      "the example has no record for agent '张三' in period '2026-02'"),
    E("the example has no record for agent {a}", "例子里没有客服 {a} 的记录", "the example has no record for agent '张三'"),
    E("agent {a} has several records in the example; say which period", "客服 {a} 在例子里有多条记录；请说明是哪个周期",
      "agent '张三' has several records in the example; say which period"),
    E("`{x}` is an input: an example gives it, it does not expect it", "`{x}` 是输入项：例子给出它，而不是期望它",
      "`late` is an input: an example gives it, it does not expect it"),
    E("the policy computes no value named `{x}`", "方案没有计算名为 `{x}` 的值", "the policy computes no value named `totl`"),
    E("`≈` compares numbers only; use `=`", "`≈` 只能比较数字；请用 `=`"),
    E("`{x}` is never N/A", "`{x}` 不会是 N/A", "`total` is never N/A"),
    E("`{x}` is never `{y}`; it is one of {labels}", "`{x}` 不会是 `{y}`；它只能是 {labels} 之一",
      "`rating` is never `A+`; it is one of A, B, C"),
    E("`{x}` is not a condition `{y}` can list", "`{x}` 不是 `{y}` 会列出的条件", "`attendence` is not a condition `failed_gates` can list"),
    E("the example's record {n} does not give {names}", "例子的第 {n} 条记录没有给出 {names}",
      "the example's record 1 does not give `absent`, `late`"),
    E("`{x}` is {kind}, not {what}", "`{x}` 是{kind}，不能是{what}", "`late` is a count, not the label `a`",
      kind=value_kind, what=lambda t: example_value(t)),
])

LABELS = Catalogue("label", [
    E("a table cannot come here", "这里不能写表格"),
    E("here", "这里"),
    E("not expected here", "这里不应出现"),
    E("more was expected", "后面还缺内容"),
    E("string starts here", "字符串从这里开始"),
    E("tab here", "这里有制表符"),
    E("unexpected character", "意外的字符"),
    E("indent to line up with the block it belongs to", "请缩进到与所属的块对齐"),
    E("indented deeper than the next row", "比下一行缩进得深"),
    E("lines up with nothing above", "和上面哪一行都对不齐"),
    E("not closed", "没有闭合"),
    E("continues line {n}", "接在第 {n} 行后面", "continues line 2"),
    E("a keyword", "关键字"),
    E("`{x}` is missing", "缺少 `{x}`", "`pts` is missing"),
    E("`{x}` is missing before this", "这前面缺少 `{x}`", "`pts` is missing before this"),
    E("`{x}` is missing here", "这里缺少 `{x}`", "`else` is missing here"),
    E("the maximum is missing", "缺少满分"),
    E("write `{x}`", "写成 `{x}`", "write `->`"),
    E("write {use}", "写成{use}", "write `,`", use=_USE),
    E("rows compare `{x}`", "各行与 `{x}` 比较", "rows compare `refund_rate`"),
    E("not a comparison", "不是比较"),
    E("a condition starts with a value", "条件要以值开头"),
    E("not rows", "不是行"),
    E("one name?", "是一个名字吗？"),
    E("nothing to close", "没有要闭合的括号"),
    E("a type is missing here", "这里缺少类型"),
    E("a name is missing here", "这里缺少名字"),
    E("a value should come here", "这里应该有一个值"),
    E("a value should come before this", "这前面应该有一个值"),
    E("`{g}`?", "是 `{g}` 吗？", "`else`?"),
    E("not a unit", "不是单位"),
    E("an operator is missing before this", "这前面缺少运算符"),
    E("remove the space", "去掉空格"),
    E("not after a number", "不在数字后面"),
    E("delete this", "删掉它"),
    E("not a space", "不是空格"),
    E("invisible character", "看不见的字符"),
    E("unknown cohort", "未知的分组"),
    E("second time", "第二次"),
    E("unknown period", "未知的周期类型"),
    E("unknown type", "未知的类型"),
    E("again", "重复"),
    E("reserved", "保留的名字"),
    E("not an input", "不是输入项"),
    E("defined again", "重复定义"),
    E("parts do not add up", "各部分加起来不对"),
    E("unknown mode", "未知的舍入方式"),
    E("may be N/A", "可能为 N/A"),
    E("never N/A", "不会是 N/A"),
    E("not points", "不是分数"),
    E("not money", "不是金额"),
    E("unused", "没有用到"),
    E("defined in terms of itself", "用自己定义自己"),
    E("not a number", "不是数字"),
    E("not a condition", "不是条件"),
    E("units differ", "单位不同"),
    E("units do not fit", "单位不匹配"),
    E("different kinds of value", "值的种类不同"),
    E("different kinds", "种类不同"),
    E("not a fixed number", "不是固定数字"),
    E("unknown label", "未知的标签"),
    E("not a value", "不是值"),
    E("a cohort, not a value", "是分组，不是值"),
    E("not defined", "没有定义"),
    E("not a count", "不是次数"),
    E("this is zero", "这里是零"),
    E("may be zero", "可能为零"),
    E("may divide by zero", "可能除以零"),
    E("not ordered", "没有先后顺序"),
    E("bounds reversed", "上下限颠倒"),
    E("unknown function", "未知的函数"),
    E("one value expected", "应为一个值"),
    E("not a gate", "不是门槛"),
    E("incomplete", "不完整"),
    E("not above the row before", "没有大于上一行"),
    E("gap or overlap with the slice before", "与上一段之间有空隙或重叠"),
    E("overlaps an earlier row", "与前面的行重叠"),
    E("never matches", "永远不会匹配"),
    E("does not add up", "加起来不对"),
    E("weights do not add up", "权重加起来不对"),
    E("always true", "总是成立"),
    E("never true", "永远不成立"),
    E("no reason given", "没有写原因"),
    E("does not line up with line {n}", "和第 {n} 行没有对齐", "does not line up with line 8"),
    E("expectation not met", "与声明不符"),
    E("bounds apply", "上下限起作用"),
    E("never reaches {n}", "永远达不到 {n}", "never reaches 30"),
    E("same result as the row before", "结果与上一行相同"),
    E("out of order with the row before", "与上一行的先后不符"),
    E("second one", "第二个"),
    E("unknown example", "未知的例子"),
    E("circular `from`", "循环的 `from`"),
    E("no `given` line", "没有 `given` 行"),
    E("same agent and period twice", "同一客服同一周期出现两次"),
    E("values of a rejected record", "被拒绝的记录不会有数值"),
    E("no `expect` line", "没有 `expect` 行"),
    E("not an input", "不是输入项"),
    E("this value", "这个值"),
    E("inputs missing", "缺少输入项"),
    E("which record?", "哪一条记录？"),
    E("no such record", "没有这条记录"),
    E("which period?", "哪个周期？"),
    E("an input", "输入项"),
    E("unknown value", "未知的值"),
])

NOTES = Catalogue("note", [
    E("`{a}` uses `items` here, the sum of every item, `{b}` included", "`{a}` 在这里用了 `items`，即所有考核项之和，其中也包括 `{b}`",
      "`bonus` uses `items` here, the sum of every item, `bonus` included"),
    E("the first one", "第一个"),
    E("the rejection is expected here", "这里要求记录被拒绝"),
    E("first given here", "第一次写在这里"),
    E("first declared here", "第一次声明在这里"),
    E("first defined here", "第一次定义在这里"),
    E("the first row, on line {n}, is indented by {a}", "第一行（第 {n} 行）缩进了 {a}",
      "the first row, on line 8, is indented by 8 spaces", a=_spaces),
    E("the other row", "另一行"),
    E("line {a} is indented deeper than line {b}, so it continues line {c}", "第 {a} 行比第 {b} 行缩进得深，所以被当成第 {c} 行的延续",
      "line 3 is indented deeper than line 2, so it continues line 2"),
    E("`{a}` uses `{b}` here", "`{a}` 在这里用到了 `{b}`", "`total` uses `bonus` here"),
    E("row `{r}` comes first", "`{r}` 这一行在前面", "row `>= 3 -> -5` comes first"),
    E("`{x}` is worth {n} pts", "`{x}` 满分 {n} 分", "`attendance` is worth 20 pts"),
    E("the row it should not be below", "它不应低于的那一行"),
])

SUGGESTIONS = Catalogue("suggestion", [
    E("an item cannot depend on `items`, even through another value (it would depend on itself): name the other "
      "items instead (`{ex}`)", "考核项不能依赖 `items`，经由别的值间接依赖也不行（那样它会依赖自己）：请直接写出其他考核项（`{ex}`）",
      "an item cannot depend on `items`, even through another value (it would depend on itself): name the other "
      "items instead (`base + quality`)"),
    E("define the table on its own, `{a}`, and use `{b}` in this formula", "把表格单独定义为 `{a}`，再在这个公式里使用 `{b}`",
      "define the table on its own, `let part = first complaints: …`, and use `part` in this formula"),
    E("add `given NAME = VALUE, …` for the record, or `from` another example",
      "为记录写上 `given NAME = VALUE, …`，或用 `from` 以另一个例子为起点"),
    E("give each record its own `agent` (or `period`)", "给每条记录写上各自的 `agent`（或 `period`）"),
    E("a rejected record has no values: make two examples", "被拒绝的记录没有数值：请拆成两个例子"),
    E("add `expect NAME = VALUE` with the values the scheme gives for it", "用 `expect NAME = VALUE` 写出方案对它应给出的值"),
    E("move it to an `expect` line: `expect {x} = …`", "请移到 `expect` 行：`expect {x} = …`", "move it to an `expect` line: `expect total = …`"),
    E("move it to the `given` line: `given {x} = …`", "请移到 `given` 行：`given {x} = …`", "move it to the `given` line: `given late = …`"),
    E("the inputs are: {names}", "输入项有：{names}", "the inputs are: late, absent"),
    E("every input must be given (a record without it would be rejected); `from ANOTHER_EXAMPLE` starts from that example's record",
      "每个输入项都要给出（缺少它的记录会被拒绝）；`from ANOTHER_EXAMPLE` 会以那个例子的记录为起点"),
    E("a percent is written with its sign: did you mean `{x}`?", "百分比要带百分号：是不是要写 `{x}`？",
      "a percent is written with its sign: did you mean `4%`?"),
    E("write `expect for AGENT: …` (and `in \"PERIOD\"` when the agent has several records)",
      "请写 `expect for AGENT: …`（客服有多条记录时再加 `in \"PERIOD\"`）"),
    E("its agents are: {names}", "例子里的客服有：{names}", "its agents are: A1, 张三"),
    E("write `expect for {a} in \"PERIOD\": …`", "请写 `expect for {a} in \"PERIOD\": …`", "write `expect for 张三 in \"PERIOD\": …`"),
    E("it lists: {names}", "它会列出：{names}", "it lists: 出勤, 质检"),
    E("did you mean `{x}`?", "是不是要写 `{x}`？", "did you mean `bonus`?"),
    E("add the matching `)` where the bracketed part ends", "在括号里的内容结束的地方补上对应的 `)`"),
    E("to start a new row, line it up with the row above ({n} spaces)", "要开始新的一行，请与上一行对齐（{n} 个空格）",
      "to start a new row, line it up with the row above (4 spaces)"),
    E("to start a new statement, remove the indentation so that it starts at column {c}, like line {n}",
      "要开始一条新语句，请去掉缩进，让它像第 {n} 行一样从第 {c} 列开始",
      "to start a new statement, remove the indentation so that it starts at column 1, like line 2"),
    E("choose another name, for example `{x}`", "换一个名字，例如 `{x}`", "choose another name, for example `period_score`"),
    E("for “every one of these holds” in a formula, write `{a}`; for a gate, `{b}` with one condition per row",
      "在公式里表示“这些条件全部成立”，请写 `{a}`；如果是门槛（gate），请写 `{b}`，每行一个条件",
      "for “every one of these holds” in a formula, write `all(a, b)`; for a gate, `all:` with one condition per row"),
    E("for “at least one of these holds” in a formula, write `{a}`; for a gate, `{b}` with one condition per row",
      "在公式里表示“这些条件至少有一个成立”，请写 `{a}`；如果是门槛（gate），请写 `{b}`，每行一个条件",
      "for “at least one of these holds” in a formula, write `any(a, b)`; for a gate, `any:` with one condition "
      "per row"),
    E("the header's `total {n} pts` is the maximum, not a value: write the number (`{a}`), or define the total (`{b}`)",
      "开头的 `total {n} pts` 是满分，不是一个值：请直接写数字（`{a}`），或者定义总分（`{b}`）",
      "the header's `total 100 pts` is the maximum, not a value: write the number (`70% of 100`), or define the "
      "total (`total = items`)"),
    E("rename the value `{x}`{defined}, for example to `{y}`, where it is defined and where it is used",
      "把值 `{x}`{defined}改名，例如改成 `{y}`，定义它和用到它的地方都要改",
      "rename the value `first` (defined on line 3), for example to `first_value`, where it is defined and where it "
      "is used", defined=_DEFINED_ON),
    E("write `{ex}` with its maximum N", "写成 `{ex}`，N 是它的满分", "write `item q N pts = …` with its maximum N"),
    E("write `->` between the row's condition and its value", "在这一行的条件和值之间写 `->`"),
    E("a row of `{header}` looks like {shape}", "`{header}` 的一行写成这样：{shape}",
      "a row of `first refund_rate:` looks like `<= 5% -> 30`: a comparison with the subject, `->`, the value",
      shape=_ROW_SHAPE),
    E("write the row as `{ex}`, or, for rows that are whole conditions, drop the subject: `first:`",
      "把这一行写成 `{ex}`；如果各行是完整的条件，就去掉比较对象：`first:`",
      "write the row as `<= 5% -> 30`, or, for rows that are whole conditions, drop the subject: `first:`"),
    E("for rows that are whole conditions, drop the subject and write `first:`",
      "如果各行是完整的条件，就去掉比较对象，写成 `first:`"),
    E("write the row as `{ex}`", "把这一行写成 `{ex}`", "write the row as `<= 5% -> 30`"),
    E("name the value the rows compare after `first` (`{a}`), or write each row as a whole condition (`{b}`)",
      "在 `first` 后面写上各行要比较的值（`{a}`），或者把每一行写成完整的条件（`{b}`）",
      "name the value the rows compare after `first` (`first refund_rate:`), or write each row as a whole condition "
      "(`refund_rate <= 5% -> 30`)"),
    E("add `else` and a value: `{ex}`", "加上 `else` 和一个值：`{ex}`", "add `else` and a value: `500 if qualified else 0`"),
    E("indent the rows under this line (for example by 4 spaces), or write them after the `:` on the same line, "
      "separated by commas",
      "把各行缩进写在这一行下面（例如缩进 4 个空格），或者写在同一行的 `:` 后面，用逗号分隔"),
    E("join this line to the line above, or remove the `:` at the end of the line above",
      "把这一行接到上一行后面，或者去掉上一行末尾的 `:`"),
    E("write `{x}` (or put a title in quotes: `{q}`)", "写成 `{x}`（或者把标题放在引号里：`{q}`）",
      'write `refund_rate` (or put a title in quotes: `"…"`)'),
    E("write `..` between the two ends of the range", "在范围的两端之间写 `..`"),
    E("delete it, or add the `(` where the bracketed part starts", "删掉它，或者在括号里的内容开始的地方补上 `(`"),
    E("write one of {codes}", "写其中之一：{codes}", "write one of `count`, `percent` or `choice a | b`",
      codes=_code_words),
    E("names are letters (Chinese too), digits and `_`, not starting with a digit",
      "名字由字母（汉字也可以）、数字和 `_` 组成，不能以数字开头"),
    E("for example {ex}", "例如 {ex}", "for example `5 per late`", ex=_EXAMPLE),
    E("did you mean `{x}`? (or {ops})", "是不是要写 `{x}`？（或者用 {ops}）",
      "did you mean `5 per late`? (or `+`, `-`, `*`, `/`)", ops=_code_list),
    E("join them with an operator: {ops}", "用运算符把它们连起来：{ops}", "join them with an operator: `+` `-` `*`"),
    E("units are written straight after the number: {codes}; money, points and counts are plain numbers",
      "单位紧跟在数字后面：{codes}；金额、分数和次数都是普通数字",
      "units are written straight after the number: `5%`, `30s`, `2min`, `24h`; money, points and counts are plain "
      "numbers", codes=_code_list),
    E("replace `{a}` with `{b}`", "把 `{a}` 换成 `{b}`", 'replace `”` with `"`'),
    E('add the closing `"` at the end of the text, on the same line', '在文字的末尾、同一行里补上右引号 `"`'),
    E("replace the tab with spaces", "把制表符换成空格"),
    E("write the percent as a number with `%`: `{a}`, or `{b}`", "百分比写成带 `%` 的数字：`{a}`，或者 `{b}`",
      "write the percent as a number with `%`: `5%`, or `70% of 130`"),
    E("write a `0` before the point", "在小数点前面写一个 `0`"),
    E("write one statement per line; separate rows on one line with `,`", "每行写一条语句；同一行里的多行用 `,` 分隔"),
    E("replace it with {use}: `{fixed}`", "换成{use}：`{fixed}`", "replace it with `,`: `input late, leave : count`",
      use=_USE),
    E("replace it with {use}", "换成{use}", "replace it with `,`", use=_USE),
    E("delete it", "删掉它"),
    E("delete it: `{fixed}`", "删掉它：`{fixed}`", "delete it: `input standout : points in 0 or 2..5`"),
    E("replace it with `{r}` (switch the keyboard to English input)", "换成 `{r}`（把输入法切换到英文）",
      "replace it with `A` (switch the keyboard to English input)"),
    E("write `not` (or `!=` for “not equal”)", "写成 `not`（“不等于”写 `!=`）"),
    E("write one statement per line instead", "改成每行写一条语句"),
    E("money is a plain number: `{ex}`", "金额是普通数字：`{ex}`", "money is a plain number: `2000`"),
    E("policyc has no power operator; write the product out (`{ex}`)", "policyc 没有乘方运算；请写成乘积（`{ex}`）",
      "policyc has no power operator; write the product out (`x * x`)"),
    E("a backslash is only used inside quoted text", "反斜杠只能用在引号里的文字中"),
    E("write conditions with `if … else …`", "条件请用 `if … else …` 来写"),
    E("outside quoted text, use letters, digits and the signs of the language (`{signs}`)",
      "在引号外面，只能用字母、数字和语言里的符号（`{signs}`）",
      "outside quoted text, use letters, digits and the signs of the language (`+ - * / ( ) , : ->`)"),
    E("add {rows}", "加上 {rows}", "add `lead -> …`, `intern -> …`", rows=_code_list),
    E("add a row for these values, or an `else ->` row", "为这些值加一行，或者加一行 `else ->`"),
    E('add the closing `"` on the same line', '在同一行补上右引号 `"`'),
    E("compute it with `let`, then write `{ex}`", "先用 `let` 算出这个值，再写 `{ex}`",
      "compute it with `let`, then write `item upsell_item … = that_value when na 0`"),
    E("declare it, e.g. `{ex}`", "先声明它，例如 `{ex}`", "declare it, e.g. `cohort team by team`"),
    E("define it with `input` or `let`", "用 `input` 或 `let` 定义它"),
    E("replace the tab with spaces (rows under a line ending with `:` are usually indented by 4)",
      "把制表符换成空格（以 `:` 结尾的行下面的行通常缩进 4 个空格）"),
    E("indent every row of the block by the same number of spaces (here {n})", "块里的每一行都缩进同样多的空格（这里是 {n} 个）",
      "indent every row of the block by the same number of spaces (here 4)"),
    E("indent it by {a} to make it one more row, or by {outer} to start a new statement",
      "缩进 {a}，让它成为块里的又一行；或者缩进 {outer} 个空格，开始一条新语句",
      "indent it by 4 spaces to make it one more row, or by 0 to start a new statement", a=_spaces),
    E("functions: {names}", "可用的函数：{names}", "functions: abs, all, any"),
    E("types: {names}", "可用的类型：{names}", "types: count, percent, duration"),
    E("make the bounds meet without overlapping (`{a}` then `{b}`), or use `first` if the order should decide",
      "让边界正好衔接、不要重叠（先 `{a}` 再 `{b}`）；如果应当按行的先后决定，就改用 `first`",
      "make the bounds meet without overlapping (`< 20s` then `>= 20s`), or use `first` if the order should decide"),
    E("make the percents add up to 100%, or give plain ratios like `{ex}`",
      "让百分比加起来正好是 100%，或者改用 `{ex}` 这样的比例",
      "make the percents add up to 100%, or give plain ratios like `5 : 2 : 3`"),
    E("money comes from money inputs, or from plain numbers ({ex})", "金额来自 money 类型的输入项，或者来自普通数字（{ex}）",
      "money comes from money inputs, or from plain numbers (2000, 5% of sales)"),
    E("start the file with `{ex}`", "在文件开头写上 `{ex}`", 'start the file with `policy my_policy "title"`'),
    E("use `cohort` for team values and `streak`/`previous` for earlier periods",
      "团队的数值请用 `cohort`，以前周期的数值请用 `streak`/`previous`"),
    E("use `first` or `table` for numbers", "数字请用 `first` 或 `table`"),
    E("write `{ex}` (or the value it should give)", "写成 `{ex}`（或者换成这时应得的值）",
      "write `(orders / inquiries when zero 0)` (or the value it should give)"),
    E("write `{ex}` (or another label)", "写成 `{ex}`（也可以用别的标签）",
      "write `by (spot_grade when na 差):` (or another label)"),
    E("write `{ex}` (or another value than 0)", "写成 `{ex}`（也可以用 0 以外的值）",
      "write `(upsell when na 0)` (or another value than 0)"),
    E("write `{ex}`", "写成 `{ex}`", "write `… if qualified else …`"),
    E("write the plain number", "直接写数字，不要加 %"),
    E("write the smaller bound first: `{ex}`", "把较小的界限写在前面：`{ex}`",
      "write the smaller bound first: `clamp 0 .. 130`"),
    E("a percent belongs to a percent value; check the unit", "百分号只用于百分比类型的值；请检查单位"),
    E("check the threshold and its unit (a percent is 0% to 100%)", "请检查阈值和它的单位（百分比在 0% 到 100% 之间）"),
    E("check the threshold against what the values can really be (a percent is 0% to 100%)",
      "请对照这些值实际可能取到的范围检查阈值（百分比在 0% 到 100% 之间）"),
    E("order the rows from the strictest threshold to the loosest (`{a}` before `{b}`)",
      "把各行按阈值从最严到最宽排列（`{a}` 放在 `{b}` 前面）",
      "order the rows from the strictest threshold to the loosest (`>= 5` before `>= 3`)"),
    E("correct an item's maximum or the declared total", "请改正某个考核项的满分，或者声明的总分"),
    E("a cap (`at most`) applies to the whole formula before it: to cap one term only, put the term and its cap "
      "in parentheses (`{ex}`)",
      "上限（`at most`）作用于它前面的整个公式：如果只想给其中一项设上限，请把这一项和它的上限一起放进括号（`{ex}`）",
      "a cap (`at most`) applies to the whole formula before it: to cap one term only, put the term and its cap "
      "in parentheses (`30 - (5 per late at most 10)`)"),
    E("check the formula's values, or declare the maximum the item can reach", "请检查公式的取值，或者把满分声明为这一项实际能达到的分数"),
    E("make the weights add up to 100% (or write the score as a `weighted:` block, which re-scales N/A criteria)",
      "让权重加起来正好是 100%（也可以写成 `weighted:` 块，为 N/A 的指标会自动按比例重新分配）"),
    E("make the weights add up to 100% (N/A criteria are re-scaled automatically)",
      "让权重加起来正好是 100%（为 N/A 的指标会自动按比例重新分配）"),
    E("check this row's result; if intended, say so with `{ex}`", "请检查这一行的结果；如果是有意的，请用 `{ex}` 注明",
      "check this row's result; if intended, say so with `# policyc: ignore[W405] reason`"),
    E("update the expected codes (and give the reason), or remove the line if the policy is fixed",
      "请更新预期的代码（并写明原因）；如果方案已经改好，请删除这一行"),
    E("indent every row of the block by the same number of spaces ({a} or {b})",
      "块里的每一行都请缩进同样多的空格（{a} 或 {b} 个）",
      "indent every row of the block by the same number of spaces (4 or 8)"),
    E("indent with ordinary spaces only", "缩进请只用普通空格"),
    E("write the reason after it: `{ex}`", "在后面写上原因：`{ex}`",
      "write the reason after it: `# policyc: ignore[W401] because …`"),
])

# The one-line summary of each code (CODES), for SARIF rule descriptions.
SUMMARIES = Catalogue("summary", [
    E("an example gives a field that is not an input", "例子给出了不是输入项的字段"),
    E("an example expects a value the policy does not compute", "例子期望了方案并不计算的值"),
    E("an example value of the wrong kind, label or range", "例子里的值类型、标签或范围不对"),
    E("an example record that misses inputs", "例子的记录缺少输入项"),
    E("an example whose records or `from` cannot be resolved", "例子的记录或 `from` 无法确定"),
    E("an example with no `expect` line", "没有 `expect` 行的例子"),
    E("an item that can never reach its maximum", "永远拿不到满分的考核项"),
    E("weights written in a formula that do not add up to 100%", "公式里写的权重加起来不是 100%"),
    E("the text is not valid policy syntax", "文本不符合方案的语法"),
    E("indentation or line layout is wrong", "缩进或分行有误"),
    E("a string is not closed on its line", "字符串在本行没有结束"),
    E("a character that has no meaning here", "在这里没有意义的字符"),
    E("the file has no `policy` line", "文件没有 `policy` 行"),
    E("a header line is given twice", "开头的声明行写了两次"),
    E("unknown period kind", "未知的周期类型"),
    E("unknown input type", "未知的输入类型"),
    E("an input's domain does not fit its type", "输入项的取值范围与类型不符"),
    E("a label is listed twice", "标签重复列出"),
    E("a counter-example that is not rejected as it says", "没有按声明被拒绝的反例文件"),
    E("no cohort of that name", "没有这个名字的分组"),
    E("a name policyc reserves for records", "policyc 为记录保留的名字"),
    E("a name that is not defined", "没有定义的名字"),
    E("a name defined twice", "定义了两次的名字"),
    E("definitions that depend on themselves", "依赖自身的定义（循环依赖）"),
    E("a function policyc does not have", "policyc 没有的函数"),
    E("wrong arguments for a function", "函数的参数不对"),
    E("a label its value can never have", "值永远不会取到的标签"),
    E("a value of the wrong kind", "值的种类不对"),
    E("quantities with different units combined", "把单位不同的量放在一起算"),
    E("a value that may be N/A used without `when na`", "可能为 N/A 的值没有用 `when na` 处理"),
    E("a division whose denominator can be zero", "除数可能为零的除法"),
    E("a table whose rows do not fit its kind", "表的行与表的种类不符"),
    E("a label map that misses a label", "按标签取值的表漏了标签"),
    E("a split that cannot add up", "加不起来的拆分"),
    E("a rounding step that is not a positive number", "舍入步长不是正数"),
    E("a value that must be a fixed number", "必须是固定数字的值"),
    E("values no row of a table covers", "表里没有任何一行覆盖的值"),
    E("two rows of a `table` that both hold for some values", "`table` 里有两行对某些值同时成立"),
    E("an input no definition uses", "没有任何定义用到的输入项"),
    E("a `let` value nothing uses", "没有任何地方用到的 `let` 值"),
    E("a table row that can never match", "永远不会匹配的表格行"),
    E("item maxima, weights or parts that do not add up", "加起来不对的满分、权重或各部分"),
    E("a condition that holds for every record, or for none", "对每条记录都成立、或者都不成立的条件"),
    E("a `policyc: ignore` comment without a reason", "没有写原因的 `policyc: ignore` 注释"),
    E("a clamp that some records reach", "有些记录会触及的上下限"),
    E("neighbouring rows that could be one", "可以合并成一行的相邻行"),
    E("a better value of a measure gets fewer points", "指标的值更好，得分反而更少"),
])

CATALOGUES = (MESSAGES, LABELS, NOTES, SUGGESTIONS, SUMMARIES)

# ───────────────────────── fixed words ─────────────────────────

_WORDS = {
    "en": {"error": "error", "warning": "warning", "info": "info", "note": "note", "help": "help", "see": "see"},
    "zh": {"error": "错误", "warning": "警告", "info": "提示", "note": "注", "help": "帮助", "see": "参见"},
}


def word(key: str, lang: str = "en") -> str:
    """A fixed word of the report: error, warning, info, note, help, see."""
    return _WORDS[lang][key]


def severity_word(severity: Severity, lang: str = "en") -> str:
    return word(severity.value, lang)


def summary_line(files: int, errors: int, warnings: int, lang: str = "en") -> str:
    """The last line of `policyc check` in text format."""
    if lang == "zh":
        return f"已检查 {files} 个方案：{errors} 个错误，{warnings} 个警告"
    return f"checked {files} polic{'y' if files == 1 else 'ies'}: {errors} error(s), {warnings} warning(s)"


# ───────────────────────── translating ─────────────────────────


def _parts(d: Diagnostic):
    """(catalogue, English text) for every translatable part of a diagnostic."""
    yield MESSAGES, d.message
    if d.label:
        yield LABELS, d.label
    for n in d.notes:
        yield NOTES, n.message
    if d.suggestion:
        yield SUGGESTIONS, d.suggestion


def _or_english(catalogue: Catalogue, text: str) -> str:
    out = catalogue(text)
    return text if out is None else out


def translate(d: Diagnostic, lang: str = "zh") -> Diagnostic:
    """A copy of `d` in `lang`; parts the catalogue does not know stay in English."""
    if lang == "en":
        return d
    if lang != "zh":
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return attrs.evolve(
        d,
        message=_or_english(MESSAGES, d.message),
        label=_or_english(LABELS, d.label) if d.label else d.label,
        notes=tuple(Note(message=_or_english(NOTES, n.message), span=n.span) for n in d.notes),
        suggestion=_or_english(SUGGESTIONS, d.suggestion) if d.suggestion else d.suggestion,
    )


def untranslated(d: Diagnostic) -> list[str]:
    """The parts of `d` (message, label, notes, suggestion) that have no Chinese yet."""
    return [text for catalogue, text in _parts(d) if catalogue(text) is None]


def summary(code: str, lang: str = "en") -> str:
    """The one-line summary of a code, in `lang` (English if it has no translation)."""
    text = CODES[code][2]
    return text if lang == "en" else _or_english(SUMMARIES, text)


def expected_line(n: int, lang: str) -> str:
    """The line saying how many errors counter-example files declared (`policyc: expect`)."""
    en = f"({n} error(s) expected by counter-example files marked `policyc: expect`)"
    if lang == "zh":
        return f"（{n} 个错误是标注了 `policyc: expect` 的反例文件预期的）\n" + en
    return en
