"""Generate valid, realistic policies of N definitions, for timing `policyc check`.

A generated policy is a header (`policy`, `period month`, `cohort team by
team`, a text input `team`) followed by N / 10 *blocks*. Each block is one
department's assessment scheme of exactly 10 definitions, with its own inputs
(every input kind: choice, grade, percent, duration, count, money, points,
number, points-or-N/A, bool; the header adds text) and one `require`:

- `item` with a `by` label map over a grade (every label mapped);
- `item` with a `first` table with an `else` row;
- `let` with a complete `table` range table over a duration (no gap, no
  overlap: the checker proves both);
- `item` with per-occurrence deductions (`20 - 5 per late - 10 per absent`);
- `let` with a division and `when zero`;
- a `let` chain: each uses the earlier ones (conversion → conversion
  points → score), the score also uses `when na` and a clamp;
- a gate `all:` with named conditions (percent, number, bool);
- a `label` rating (`first` over the score, bare names are labels);
- `pay` with `round 0.01`, using the gate, the score and a choice.

Within a block the definitions are written in a seeded random order, so a
definition is often written before what it uses and the checker's dependency
ordering has real work to do. Thresholds, maxima and weights vary per block
(seeded), so no two blocks are textually the same. Every input and every `let`
is used, so a generated policy checks with no diagnostic at all.

Deterministic: the same N and seed give the same text.

    python bench/gen_policy.py 1000                  # print a 1,000-definition policy
    python bench/gen_policy.py 1000 -o /tmp/p.policy
    python bench/gen_policy.py 10 100 1000 10000 --check   # check each, 0 diagnostics
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

BLOCK = 10  # definitions per block
SIZES = (10, 100, 1_000, 10_000)
DEFAULT_SEED = 20261123



def _pct(x: float) -> str:
    """A percent literal with at most one decimal: 5%, 7.5%."""
    s = f"{x:.1f}".rstrip("0").rstrip(".")
    return f"{s}%"


def _block(k: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """Inputs/requires and the 10 definitions of block k."""
    s = f"_{k}"
    dept = f"部门{k}"
    inputs = [
        f"# ── {dept} ──",
        f'input level{s} : choice normal | senior | lead             "{dept} 岗位级别"',
        f'input quality{s}_grade : grade 优 > 良 > 中 > 差             "{dept} 服务质量"',
        f'input refund_rate{s} : percent                              "{dept} 退款率"',
        f'input avg_response{s} : duration                            "{dept} 平均响应时间"',
        f'input late{s}, absent{s} : count                            "{dept} 迟到, 旷工"',
        f'input inquiries{s}, orders{s} : count                       "{dept} 询单人数, 下单人数"',
        f'input standout{s} : points in 0 or 2..5                     "{dept} 表现突出"',
        f'input dsr{s} : number in 0..5                               "{dept} DSR 评分"',
        f'input qa{s} : points in 0..100 or na                        "{dept} 质检得分"',
        f'input breach{s} : bool                                      "{dept} 泄露隐私"',
        f"require orders{s} <= inquiries{s}",
    ]

    # seeded parameters
    q_max = rng.choice((10, 15, 20))
    q_pts = sorted(rng.sample(range(0, q_max), 3), reverse=True)
    refund_max = rng.choice((20, 25, 30))
    r1 = rng.choice((3, 4, 5))
    r2 = r1 + rng.choice((2, 3))
    r3 = r2 + rng.choice((1.5, 2, 3))
    t1 = rng.choice((8, 10, 12))
    t2 = t1 + rng.choice((5, 10))
    t3 = t2 + rng.choice((10, 20, 30))
    late_pts = rng.choice((2, 3, 5))
    absent_pts = rng.choice((5, 10))
    conv_weight = rng.choice((10, 15, 20))
    qa_div = rng.choice((5, 10, 20))
    resp_weight = rng.choice(("0.1", "0.2", "0.25"))
    gate_refund = _pct(r3)
    gate_dsr = rng.choice(("4.5", "4.6", "4.8"))
    ex, gd, ps = rng.choice(((90, 75, 60), (85, 70, 60), (95, 80, 65)))
    pay_base = rng.choice((800, 1000, 1200))
    pay_lead = pay_base + rng.choice((200, 300, 500))

    defs = [
        # by label map
        f'item quality{s} {q_max} pts "{dept} 服务质量分" = by quality{s}_grade: '
        f"优 -> {q_max}, 良 -> {q_pts[0]}, 中 -> {q_pts[1]}, 差 -> {q_pts[2]}",
        # first table with else
        f'item refund{s} {refund_max} pts "{dept} 退款率分" = first refund_rate{s}:\n'
        f"    <= {_pct(r1)} -> {refund_max}\n"
        f"    <= {_pct(r2)} -> {refund_max * 2 // 3}\n"
        f"    <= {_pct(r3)} -> {refund_max // 3}\n"
        f"    else -> 0",
        # complete range table
        f'let response{s} "{dept} 响应分" = table avg_response{s}:\n'
        f"    <= {t1}s -> 100\n"
        f"    > {t1}s, < {t2}s -> 90\n"
        f"    >= {t2}s, < {t3}s -> 80\n"
        f"    >= {t3}s -> 60",
        # per-occurrence formula
        f'item attendance{s} 20 pts "{dept} 考勤" = 20 - {late_pts} per late{s} - {absent_pts} per absent{s}',
        # division with when zero
        f'let conversion{s} "{dept} 询单转化率" = orders{s} / inquiries{s} when zero 0%',
        # let chain: uses conversion and qa
        f"let conv_points{s} = {conv_weight} × conversion{s} + (qa{s} when na 0) / {qa_div}",
        # let chain: uses the items, response and conv_points
        f'let score{s} "{dept} 得分" = quality{s} + refund{s} + attendance{s} + {resp_weight} × response{s}\n'
        f"    + conv_points{s} + standout{s} clamp 0 .. 100",
        # gate
        f'gate{s} "{dept} 全部达标" = all:\n'
        f"    refund: refund_rate{s} <= {gate_refund}\n"
        f"    dsr: dsr{s} >= {gate_dsr}\n"
        f"    privacy: not breach{s}",
        # label rating
        f'label rating{s} "{dept} 评级" = first score{s}:\n'
        f"    >= {ex} -> excellent\n"
        f"    >= {gd} -> good\n"
        f"    >= {ps} -> pass\n"
        f"    else -> fail",
        # pay with round
        f'pay bonus{s} "{dept} 绩效奖金" = ({pay_lead} if level{s} is lead else {pay_base}) × score{s} / 100'
        f" round 0.01 if gate{s} else 0",
    ]
    assert len(defs) == BLOCK
    rng.shuffle(defs)
    return inputs, defs


def generate(n: int, seed: int = DEFAULT_SEED) -> str:
    """Return the text of a policy with exactly `n` definitions (a positive multiple of 10)."""
    if n <= 0 or n % BLOCK:
        raise ValueError(f"the number of definitions must be a positive multiple of {BLOCK}, not {n}")
    rng = random.Random(seed * 1_000_003 + n)
    out = [
        f"# Generated by bench/gen_policy.py: {n} definitions in {n // BLOCK} blocks, seed {seed}.",
        f'policy bench_{n} "生成的考核方案 ({n} 个定义)"',
        "period month",
        'source "bench/gen_policy.py"',
        "cohort team by team",
        "",
        'input team : text "小组"',
        "",
    ]
    for k in range(n // BLOCK):
        inputs, defs = _block(k, rng)
        out.extend(inputs)
        out.append("")
        for d in defs:
            out.append(d)
        out.append("")
    return "\n".join(out)


def count_definitions(text: str) -> int:
    """Definitions in a generated policy, counted through the parser (not by regex)."""
    from policyc import ast
    from policyc.parser import parse

    return sum(len(s.names) for s in parse(text).statements if isinstance(s, ast.Definition))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("sizes", nargs="*", type=int, default=None,
                    help=f"numbers of definitions (multiples of {BLOCK}); default {list(SIZES)} with --check")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("-o", "--output", help="write the policy here (one size only)")
    ap.add_argument("--check", action="store_true",
                    help="check each generated policy with check_source; exit 1 unless 0 diagnostics")
    args = ap.parse_args(argv)
    sizes = args.sizes or (list(SIZES) if args.check else [])
    if not sizes:
        ap.error("give at least one size, or --check")
    try:
        texts = {n: generate(n, args.seed) for n in sizes}
    except ValueError as e:
        ap.error(str(e))
    if args.check:
        from policyc.compiler import check_source

        bad = 0
        for n, text in texts.items():
            policy, diags = check_source(text, f"bench_{n}.policy")
            defs = count_definitions(text)
            ok = policy is not None and not diags and defs == n
            bad += not ok
            print(f"{n:>6} definitions ({defs} parsed, {len(text.splitlines())} lines): "
                  f"{len(diags)} diagnostic(s){'' if ok else '  FAIL'}")
            for d in diags[:10]:
                print(f"    {d.code} line {d.span.line}: {d.message}")
        return 1 if bad else 0
    if args.output:
        if len(sizes) != 1:
            ap.error("-o takes one size")
        Path(args.output).write_text(texts[sizes[0]], encoding="utf-8")
    else:
        for text in texts.values():
            sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
