"""Every fixed word of `policyc doc`, in English and Chinese.

The builder (`doc_model`) writes its phrases in English and passes them
through `Words.t` (plain text) or `Builder.ti` (inline text whose holes may
hold code); the English phrase is the key of `ZH`. A `{hole}` is filled with
text that comes from the policy (a name, a number as written, a doc string),
never translated. A phrase missing from `ZH` is a bug in either language:
`Words.template` raises KeyError, and tests/test_doc.py checks that every
phrase the builder can use is here, with Chinese that keeps the same holes.
"""

from __future__ import annotations

LANGS = ("en", "zh")

ZH: dict[str, str] = {
    # ── headings and table headers ──
    "Scheme {name} · {period}": "方案 {name} · {period}",
    "Purpose": "目的",
    "Source: {source}": "依据：{source}",
    "Assessment period": "考核周期",
    "What is measured": "考核数据",
    "Each agent's record for the period gives these values.": "每位客服每个考核期的记录提供以下数据。",
    "Input": "数据项",
    "Description": "说明",
    "Type": "类型",
    "Allowed values": "取值范围",
    "N/A allowed": "可填不适用",
    "Better when": "优劣方向",
    "higher": "越高越好",
    "lower": "越低越好",
    "Requirements": "数据要求",
    "A record that breaks one of these is not scored: it is sent back to be corrected.":
        "不满足以下任一要求的记录不予计分，退回更正。",
    "Items": "考核项目",
    "Item": "考核项",
    "Maximum (points)": "满分（分）",
    "Scored by": "计分方法",
    "Full marks": "总满分",
    "Full marks: {n} points, as the policy declares; the items' maxima add up to it.":
        "总满分 {n} 分（方案声明），各考核项满分之和正好等于它。",
    "Full marks: {n} points, the sum of the items' maxima.": "总满分 {n} 分，即各考核项满分之和。",
    "Totals and other values": "总分与其他结果",
    "Gates": "达标条件",
    "Ratings": "评级",
    "Pay": "薪酬",
    "Worked cases": "计算示例",
    "Condition": "条件",
    "Points": "得分",
    "Amount (yuan)": "金额（元）",
    "Rating": "评级",
    "Value": "数值",
    "Name": "名称",
    "Slice": "分段",
    "Rate": "比例",
    "Weight": "权重",
    "Criterion": "评分项",
    "Part": "部分",
    "Share": "比例",
    "Result": "结果",
    "Results:": "计算结果：",
    "Given:": "记录数据：",
    "Where:": "其中：",
    "Formula: {code}": "计算公式：{code}",
    "Holds when: {code}": "成立条件：{code}",
    "Result: {kind}": "结果类型：{kind}",
    "Case at line {n}": "第 {n} 行的示例",
    "This document is rendered from the policy {name} and its doc strings; the policy is the reference.":
        "本文档根据方案 {name} 及其中的说明文字生成；以方案文件为准。",
    # ── period ──
    "monthly": "每月考核",
    "every half month": "每半月考核",
    "quarterly": "每季度考核",
    "yearly": "每年考核",
    "Monthly: every agent is assessed once a month (periods are written like 2026-11).":
        "按月考核：每位客服每月考核一次（考核期写作 2026-11 这样的形式）。",
    "Every half month: from the 1st to the 15th and from the 16th to the end of the month "
    "(periods are written like 2026-11-H1 and 2026-11-H2).":
        "每半月考核：每月 1 日至 15 日、16 日至月底各考核一次（考核期写作 2026-11-H1、2026-11-H2）。",
    "Quarterly: every agent is assessed once a quarter (periods are written like 2026-Q4).":
        "按季度考核：每位客服每季度考核一次（考核期写作 2026-Q4 这样的形式）。",
    "Yearly: every agent is assessed once a year (periods are written like 2026).":
        "按年考核：每位客服每年考核一次（考核期写作 2026 这样的形式）。",
    "{cohort}: the agents with the same {keys} in the same period.": "{cohort}：同一考核期内{keys}相同的客服。",
    "{cohort}: every agent in the same period.": "{cohort}：同一考核期内的全部客服。",
    # ── inputs ──
    "count (a whole number)": "次数（整数）",
    "percent": "百分比",
    "duration": "时长",
    "money (yuan)": "金额（元）",
    "points": "分值",
    "number": "数值",
    "grade": "等级",
    "choice": "选项",
    "text": "文本",
    "yes or no": "是或否",
    "{type}; the same for everyone in {cohort}": "{type}；{cohort}内每人相同",
    "best first": "由好到差",
    "any number": "任意数值",
    "any text": "任意文本",
    "or": "或",
    "and": "且",
    ", ": "、",
    "yes": "是",
    "no": "否",
    "N/A": "不适用",
    "(none)": "（无）",
    # ── definitions ──
    "Item, at most {max} points.": "考核项，满分 {max} 分。",
    "An intermediate value: used by the rules below, not a result of its own.": "中间值：供其他规则使用，本身不单独列出。",
    "Pay, in yuan.": "薪酬项，单位：元。",
    "an amount of money (yuan)": "金额（元）",
    "a duration": "时长",
    "a percent": "百分比",
    "a whole number": "整数",
    "a number": "数值",
    "a rating": "评级",
    "a list of condition names": "条件名称列表",
    "An item never goes below 0 nor above its maximum of {max} points (deduct until nothing is left).":
        "考核项得分不低于 0 分、不高于满分 {max} 分（扣完为止）。",
    "The first row that holds gives the value.": "自上而下，取第一条成立的行。",
    "Exactly one row holds for every value.": "任何取值都恰好落在其中一行。",
    "By {subject}: the first row that holds gives the value.": "按{subject}：自上而下，取第一条成立的行。",
    "By {subject}: exactly one row holds for every value.": "按{subject}：任何取值都恰好落在其中一行。",
    "otherwise": "其他情况",
    "any other": "其他",
    "By {subject}:": "按{subject}：",
    "A straight line through the points below, by {subject}: between two points the value moves on the line; "
    "below the first point and above the last it stays at the end value.":
        "按{subject}在下列各点之间连成折线：两点之间按直线计算；低于第一个点或高于最后一个点时，取端点的值。",
    "Tiers, like tax brackets: each slice of {subject} is multiplied by its own rate, and the results are added.":
        "累进分段（与个人所得税类似）：{subject}的每一段按各自的比例计算，再把各段相加。",
    "{lo} and above": "{lo} 以上",
    "A weighted score: each criterion counts with its weight. A criterion that is not applicable is left out "
    "and the other weights are scaled up to add up again; when every criterion is not applicable, the score "
    "is not applicable.":
        "加权评分：各评分项按权重计入。不适用的评分项不计，其余权重按比例放大后重新合计为 100%；"
        "全部评分项都不适用时，得分为不适用。",
    "Critical: when one of these does not hold, the whole score is 0.": "一票否决：以下任一条件不成立时，整个得分为 0。",
    "Holds when every condition below holds.": "以下条件全部成立时成立。",
    "Holds when at least one condition below holds.": "以下条件至少一条成立时成立。",
    "{amount} is split in these shares:": "{amount}按以下比例拆分：",
    "Every part but the last is rounded to {q}; the last part is the rest, so the parts add up to the amount "
    "exactly.": "除最后一部分外，各部分保留到 {q}；最后一部分取余额，各部分相加正好等于总额。",
    "{x}: no": "{x}：否",
    "the items' points": "各考核项得分之和",
    "{name} — the sum of all the items' points": "{name} — 各考核项得分之和",
    "{name} — {label} ({what})": "{name} — {label}（{what}）",
    "{name} — {what}": "{name} — {what}",
    "input": "考核数据",
    "intermediate value": "中间值",
    "result": "结果",
    "item": "考核项",
    "pay": "薪酬项",
    "rating": "评级",
    "bands (the first that holds)": "分档（取第一条成立的）",
    "bands": "分档",
    "by grade or choice": "按等级或选项",
    "straight line between points": "折线计分",
    "tiers": "累进分段",
    "weighted criteria": "加权评分",
    "all conditions": "全部条件",
    "any condition": "任一条件",
    "formula": "公式",
    # ── notes ──
    "Rounded to the nearest {q} (a half rounds up).": "四舍五入到 {q}。",
    "Rounded to the nearest {q} (a half rounds to the even neighbour).": "按“四舍六入五成双”舍入到 {q}。",
    "Rounded up (away from zero) to a multiple of {q}.": "向上（远离零）取到 {q} 的整数倍。",
    "Rounded down (toward zero) to a multiple of {q}.": "向下（朝向零）取到 {q} 的整数倍。",
    "Kept between {lo} and {hi}: less counts as {lo}, more as {hi}.": "限定在 {lo} 到 {hi} 之间：低于 {lo} 按 {lo} 计，高于 {hi} 按 {hi} 计。",
    "Never more than {hi}.": "最多 {hi}。",
    "Never less than {lo}.": "最少 {lo}。",
    "When a denominator is 0 (nothing to divide by), the value is {d}.": "分母为 0（没有可计算的基数）时，取 {d}。",
    "{code}: when not applicable, it counts as {d}.": "{code}：不适用时按 {d} 计。",
    "{code}: only the part above {k} counts (0 when not above).": "{code}：只计超出 {k} 的部分（未超出为 0）。",
    "{code}: so much for each one: “5 per x” is 5 × x.": "{code}：每次计多少，“5 per x”即 5 × x。",
    "{code}: a share of: “70% of 130” is 70% × 130 = 91.": "{code}：取其比例，“70% of 130”即 70% × 130 = 91。",
    "{code}: the highest value in {cohort}, this period.": "{code}：本期{cohort}中的最高值。",
    "{code}: the lowest value in {cohort}, this period.": "{code}：本期{cohort}中的最低值。",
    "{code}: the total of {cohort}, this period.": "{code}：本期{cohort}的合计。",
    "{code}: the average of {cohort}, this period.": "{code}：本期{cohort}的平均值。",
    "{code}: how many records of {cohort} count, this period.": "{code}：本期{cohort}中符合条件的记录数。",
    "{code}: the place in {cohort} this period: 1 is the highest (the lowest when written “ascending”); "
    "equal values share a place.":
        "{code}：本期在{cohort}中的名次，1 为最高（写明“ascending”时 1 为最低）；数值相同名次相同。",
    "{code}: the agent's part of the total of {cohort}, this period.": "{code}：本期本人在{cohort}合计中所占的比例。",
    "{code}: the smallest of the values.": "{code}：取其中最小的值。",
    "{code}: the largest of the values.": "{code}：取其中最大的值。",
    "{code}: the average of the values.": "{code}：取平均值。",
    "{code}: how many of the conditions hold.": "{code}：成立的条件个数。",
    "{code}: the value without its sign.": "{code}：取绝对值。",
    "{code}: the names of the gate's conditions that failed, in order.": "{code}：未通过的条件名称，按顺序列出。",
    "{code}: the names of the gate's conditions that held, in order.": "{code}：已通过的条件名称，按顺序列出。",
    "{code}: how many periods in a row, up to and including this one, the condition has held "
    "(a missing period breaks the run).": "{code}：截至本期（含本期）条件连续成立的期数（中间缺一期即中断）。",
    "{code}: the value in the previous period (not applicable when there is none).":
        "{code}：上一考核期的值（没有上一期记录时为不适用）。",
    "{code}: holds when every condition holds.": "{code}：全部条件成立时成立。",
    "{code}: holds when at least one condition holds.": "{code}：至少一条条件成立时成立。",
    # ── worked cases ──
    "Each case is a record written into the policy with the values the scheme must give for it. The results "
    "are computed from this policy; ✓ marks a value the case states.":
        "每个示例都是写在方案里的一条记录及方案应得出的结果。下列结果由本方案计算得出；✓ 表示与示例写明的数值一致。",
    "Starts from case “{base}” and changes:": "在示例“{base}”的基础上修改：",
    "The policy refuses this record, as the case expects:": "与示例预期一致，方案拒绝这条记录：",
    "The case expects this record to be refused, but the policy scores it: run {cmd}.":
        "示例预期这条记录被拒绝，但方案对它计了分：请运行 {cmd}。",
    "This case cannot be computed: run {cmd}.": "这个示例无法计算：请运行 {cmd}。",
    "{actual} ✗ (the case expects {expected})": "{actual} ✗（示例写明为 {expected}）",
    "case “{label}” expects the record to be refused, but the policy scores it; run {cmd}":
        "示例“{label}”预期记录被拒绝，但方案对它计了分；请运行 {cmd}",
    "case “{label}” does not give the values it states; run {cmd}": "示例“{label}”的计算结果与写明的数值不符；请运行 {cmd}",
    "case “{label}” cannot be computed; run {cmd}": "示例“{label}”无法计算；请运行 {cmd}",
    "{n} yuan": "{n} 元",
    "{n} s": "{n} 秒",
    # ── the command line ──
    "{path} is a counter-example: it declares {codes} and is kept to show what the checker rejects, so it "
    "cannot be published as a scheme": "{path} 是反例：它声明了 {codes}，用来展示检查器会拒绝的写法，不能作为方案发布",
    "{path} does not check; no document was written": "{path} 未通过检查；没有生成文档",
}


class Words:
    """The fixed words of one language."""

    def __init__(self, lang: str = "en"):
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang

    def template(self, key: str) -> str:
        zh = ZH[key]  # a phrase missing from the catalogue is a bug, in English too
        return zh if self.lang == "zh" else key

    def t(self, key: str, **kw) -> str:
        return self.template(key).format(**kw)
