"""Hand-written Polars baseline for `team_kpi_2024` (SPEC §5), exact.

What a competent data engineer would write by hand with Polars for the team
KPI scheme, honestly: the same validation as policyc (every input present, no
unknown column, labels, domains - durations and money >= 0, points in [0, 10],
counts whole and >= 0 -, `paid_buyers <= inquiries`, NaN refused, magnitudes
policyc refuses, no two records for one agent and month, and `bonus_pool` /
`public_sales` equal on every record of a team and month) and the same exact
results, with no binary floats in any value:

- inputs as scaled integers (money, durations and points in hundredths, Int64);
- team values with window functions over (period, team): the highest
  `good_reviews`, the highest average order value `paid_amount / paid_items`
  (a rational: the row holding it is found with a float key and then *proved*
  the maximum by exact Int128 cross-multiplication, `A_i·n_m <= A_m·n_i` for
  every row of the team; a team where the float key chose wrong is redone in
  Python with exact fractions), the sum of `sales`;
- the score as an exact rational P / (q·K): K = 300 × highest reviews × highest
  AOV amount is common to the team, so ranking compares P_i·q_j with P_j·q_i in
  Int128. `rank` (1, 2, 2, 4): rows sorted by a float approximation of the
  score within each team and month, then every adjacent pair compared exactly;
  equal scores share the rank of the first of them, and a misordered pair
  (floats too close to tell) sends its team to an exact Python ranking;
- `streak(rank = 1) >= 3` per agent, ordered by month: the agent's two previous
  records (`shift(1)`, `shift(2)` over the agent ordered by month ordinal) are
  the two previous months and both first places;
- pay in integer cents: `bonus_pool × share` rounded half-up is
  floor((2·pool·sales + Σ) / (2Σ)); the public commission likewise with 0.5%;
  the 50/20/30 split as `(p + 1) // 2`, `(2p + 5) // 10` and the rest;
- outputs that are rationals without a finite decimal form (`reviews`, `aov`,
  `conversion`, `skills`, `score`, `share`) are given to 20 places half-up, as
  policyc's API gives them (by exact long division in Int128, two 10-digit
  steps); money as Decimal(38, 2); whole numbers as Int64.

Before any Int128 product, bounds computed from the batch's own maxima prove it
cannot overflow (Polars' Int128 arithmetic wraps silently); a batch beyond them
raises `Unsupported` rather than give a wrong answer. The generated and the
acceptance batches are far inside them.

`score_frame(frame) -> pl.DataFrame`: agent, period and the 17 outputs, in
input order; or `BatchError` (every problem found), nothing scored.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_common import (  # noqa: E402
    BatchError,
    Unsupported,
    any_flag,
    check_scales,
    decimal_column,
    describe,
    key_flags,
    label_points,
    prepare,
    scaled,
)

COUNTS = ("unreplied", "good_reviews", "paid_items", "inquiries", "paid_buyers",
          "returns_handled", "late_aftersales")
POINTS10 = ("attitude", "skill_warehouse", "skill_ops", "skill_supervisor")
MONEY = ("paid_amount", "sales", "position_wage", "bonus_pool", "public_sales")
KINDS = {
    "agent": "text", "period": "text", "team": "text", "role": "label",
    "avg_response": "number", **{c: "count" for c in COUNTS},
    **{c: "number" for c in POINTS10}, **{c: "number" for c in MONEY},
}
SCALES = {"avg_response": 2, **{c: 2 for c in POINTS10}, **{c: 2 for c in MONEY}}
OUTPUTS = ("response", "attitude_item", "reviews", "aov", "conversion", "aftersales",
           "skills", "score", "rank", "share", "performance_pay", "public_commission",
           "streak_bonus", "pay_month_part", "deferred_quarterly", "deferred_annual",
           "pay_monthly")
GROUP = ["__ord", "team"]
I128_MAX = 2 ** 127 - 1
# Tests set this to -1.0 to make both float keys wrong, so that the exact repairs
# (_fix_aov_max, _fix_ranks) run on every team.
_FLOAT_SIGN = 1.0


def L(v) -> pl.Expr:
    return pl.lit(v, dtype=pl.Int128)


def i128(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int128)


def div20(num: pl.Expr, den: pl.Expr, num_max: int = None, den_max: int = None) -> pl.Expr:
    """round_half_up(num / den, 20 places) × 10^20, exactly, for 0 <= num and
    0 < den < 10^27 (Int128; checked by the caller). When the batch's bounds
    (`num_max`, `den_max`) allow, one division: (2·10^20·num + den) // (2·den);
    else long division in two steps of ten digits, so no intermediate exceeds
    den × 10^10. (Int128 division is done in software: each one counts.)"""
    if num_max is not None and den_max is not None \
            and 2 * 10 ** 20 * num_max + den_max < 2 ** 126:
        return (num * L(2 * 10 ** 20) + den) // (den * L(2))
    ip = num // den
    r = num - ip * den
    t = r * L(10 ** 10)
    d1 = t // den
    r = t - d1 * den
    t = r * L(10 ** 10)
    d2 = t // den
    r = t - d2 * den
    up = (r * L(2) >= den).cast(pl.Int128)
    return ip * L(10 ** 20) + d1 * L(10 ** 10) + d2 + up


def dec20(expr: pl.Expr) -> pl.Expr:
    return expr.reinterpret(dtype=pl.Decimal(38, 20))


def score_frame(frame: pl.DataFrame) -> pl.DataFrame:
    frame, issues = prepare(frame, KINDS)
    if any(i.index is None for i in issues):
        raise BatchError(issues)
    check_scales(frame, SCALES)
    schema = frame.schema

    typed = [
        *(scaled(c, schema[c], 2).alias(f"__{c}") for c in ("avg_response", *POINTS10, *MONEY)),
        *(scaled(c, schema[c], 0).alias(f"__{c}") for c in COUNTS),
        label_points("role", {"agent": 0, "aftersales_specialist": 1}).alias("__specialist"),
    ]
    lf = frame.lazy().with_columns(typed)
    c = {name: pl.col(f"__{name}") for name in (*COUNTS, *POINTS10, *MONEY, "avg_response")}

    # ---- validation flags
    flags = key_flags(frame)
    flags.append(("team", pl.col("team").is_null(), "missing field"))
    flags.append(("role", pl.col("__specialist").is_null(),
                  "unknown label; expected one of agent, aftersales_specialist"))
    for name in ("avg_response", *MONEY):
        raw = pl.col(name)
        flags.append((name, raw.is_null() | c[name].is_null() | (c[name] < 0),
                      "missing, negative, or too large"))
    for name in POINTS10:
        flags.append((name, c[name].is_null() | (c[name] < 0) | (c[name] > 1000),
                      "missing, or outside [0, 10]"))
    for name in COUNTS:
        if isinstance(schema[name], pl.Decimal):
            whole = (pl.col(name).reinterpret(dtype=pl.Int128)
                     % L(10 ** schema[name].scale)) == 0
            flags.append((name, ~whole, "not a whole number"))
        flags.append((name, c[name].is_null() | (c[name] < 0), "missing, or a negative count"))
    flags.append(("paid_buyers", c["paid_buyers"] > c["inquiries"],
                  "constraint paid_buyers <= inquiries broken"))
    for name in MONEY + ("avg_response",):
        if isinstance(schema[name], pl.Decimal) and schema[name].precision > 31:
            flags.append((name, pl.col(name).reinterpret(dtype=pl.Int128).abs()
                          >= L(10 ** (31 + schema[name].scale)),
                          "too large for an assessment value"))
    ordinal = (pl.col("period").cast(pl.String).str.slice(0, 4).cast(pl.Int32, strict=False) * 12
               + pl.col("period").cast(pl.String).str.slice(5, 2).cast(pl.Int32, strict=False) - 1)
    lf = lf.with_columns(ordinal.alias("__ord"))
    for name in ("bonus_pool", "public_sales"):
        flags.append((name, c[name].min().over(GROUP) != c[name].max().over(GROUP),
                      "team-level input differs within the team in this period"))

    # one pass: typed inputs kept (shared, not copied, by the later stages) and the flags
    df = lf.with_columns(any_flag(flags)).collect()
    if issues or df.get_column("__bad").any():
        raise BatchError(issues + describe(lf, flags))
    return _score(df.drop("__bad"))


def _bounds(lf: pl.LazyFrame) -> dict:
    m = lf.select(
        pl.col("__paid_amount").max().alias("A"), pl.col("__paid_items").max().alias("N"),
        pl.col("__inquiries").max().alias("I"), pl.col("__good_reviews").max().alias("G"),
        pl.col("__late_aftersales").max().alias("LATE"), pl.col("__sales").max().alias("S"),
        pl.col("__sales").sum().alias("SS"), pl.col("__bonus_pool").max().alias("BP"),
        pl.col("__public_sales").max().alias("PS"), pl.col("__returns_handled").max().alias("R"),
        pl.col("__paid_buyers").max().alias("PB"),
    ).collect().row(0, named=True)
    return {k: int(v or 0) for k, v in m.items()}


def _check_bounds(b: dict) -> dict:
    A, N, Iq, G = max(b["A"], 1), max(b["N"], 1), max(b["I"], 1), max(b["G"], 1)
    late, S, SS = b["LATE"], max(b["S"], 1), max(b["SS"], 1)
    base = 300 * (10 + 30 + 15 + 2 * late) + 3000 + 3000
    P = (base + 3000 + 4500 + 7500 * 300) * G * A * N * Iq
    checks = {
        "aov cross-products": A * N,
        "score numerators x denominators (ranking)": P * N * Iq,
        "score output division": N * Iq * 300 * G * A * 10 ** 10,
        "aov output division": N * A * 10 ** 10 + 15 * A * N,
        "pay products": 10 * max(b["PS"], b["BP"], 1) * S + 2000 * SS,
        "share output division": SS * 10 ** 10,
        "return points": 3 * b["R"] + 25 * b["PB"],
    }
    for what, bound in checks.items():
        if bound >= 2 ** 126:
            raise Unsupported(f"values too large for this baseline's Int128 path ({what})")
    return {"A": A, "N": N, "I": Iq, "G": G, "S": S, "SS": SS, "P": P, "PB": max(b["PB"], 1),
            "PAY": 10 * max(b["PS"], b["BP"], 1) * S + 2000 * SS}


def _score(df: pl.DataFrame) -> pl.DataFrame:
    bound = _check_bounds(_bounds(df.lazy()))
    lf = df.lazy()
    c = {name: pl.col(f"__{name}") for name in
         (*COUNTS, *POINTS10, *MONEY, "avg_response", "specialist")}
    A, n = i128("__paid_amount"), i128("__paid_items")
    # average order value per record as a float key (0 when no paid items)
    key = pl.when(n > 0).then(pl.col("__paid_amount").cast(pl.Float64)
                              / pl.col("__paid_items").cast(pl.Float64)).otherwise(0.0)
    key = key * _FLOAT_SIGN
    lf = lf.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__i"),
        key.alias("__key"),
    ).with_columns(
        pl.col("__good_reviews").max().over(GROUP).alias("__gmax"),
        pl.col("__paid_amount").get(pl.col("__key").arg_max()).over(GROUP).alias("__Am"),
        pl.col("__paid_items").get(pl.col("__key").arg_max()).over(GROUP).alias("__nm"),
        pl.col("__sales").sum().over(GROUP).alias("__Ssum"),
    )
    Am, nm = i128("__Am"), i128("__nm")
    zero_aov = (pl.col("__nm") == 0) | (pl.col("__Am") == 0)   # the team's highest AOV is 0
    ok = pl.when(zero_aov).then((pl.col("__paid_amount") == 0) | (pl.col("__paid_items") == 0)) \
        .otherwise((n == 0) | (A * nm <= Am * n))
    df = lf.with_columns(zero_aov.alias("__zaov"), ok.all().over(GROUP).alias("__aov_ok")).collect()
    lf = df.lazy()
    if not df.get_column("__aov_ok").all():
        wrong = df.filter(~pl.col("__aov_ok")).select("__i", "__ord", "team", "__paid_amount",
                                                      "__paid_items")
        lf = _fix_aov_max(lf, wrong)

    # ---- items
    unrep = c["unreplied"]
    penalty = pl.when(unrep == 0).then(0).when(unrep <= 5).then(2).otherwise(10)
    response = (pl.when(c["avg_response"] <= 2500).then(10).otherwise(0) - penalty).clip(0)
    aftersales = pl.when(c["specialist"] == 1).then(30).otherwise(
        (3 * c["returns_handled"]).clip(upper_bound=30))
    inq, pb = i128("__inquiries"), i128("__paid_buyers")
    conv_sat = (pl.col("__inquiries") > 0) & (25 * pl.col("__paid_buyers") >= 15 * pl.col("__inquiries"))
    conv_frac = (pl.col("__inquiries") > 0) & ~conv_sat
    aov_term = (pl.col("__paid_items") > 0) & ~pl.col("__zaov")
    rev_term = pl.col("__gmax") > 0
    lf = lf.with_columns(
        response.cast(pl.Int64).alias("response"),
        aftersales.cast(pl.Int64).alias("aftersales"),
        conv_sat.alias("__csat"), conv_frac.alias("__cfrac"),
        aov_term.alias("__aterm"), rev_term.alias("__rterm"),
        (c["skill_warehouse"] + c["skill_ops"] + c["skill_supervisor"]).alias("__ssum"),
    )
    Dr = pl.when(pl.col("__rterm")).then(i128("__gmax")).otherwise(L(1))
    Amp = pl.when(pl.col("__zaov")).then(L(1)).otherwise(Am)
    qa = pl.when(pl.col("__aterm")).then(n).otherwise(L(1))
    qc = pl.when(pl.col("__cfrac")).then(inq).otherwise(L(1))
    base_int = (i128("response") + i128("aftersales") - L(2) * i128("__late_aftersales")
                + pl.when(pl.col("__csat")).then(L(15)).otherwise(L(0)))
    lf = lf.with_columns(Dr.alias("__Dr"), Amp.alias("__Amp"), qa.alias("__qa"), qc.alias("__qc"))
    Dr, Amp, qa, qc = (pl.col(x) for x in ("__Dr", "__Amp", "__qa", "__qc"))
    P = ((L(300) * base_int + L(3) * i128("__attitude") + i128("__ssum")) * Dr * Amp * qa * qc
         + pl.when(pl.col("__rterm")).then(L(3000) * i128("__good_reviews") * Amp * qa * qc)
         .otherwise(L(0))
         + pl.when(pl.col("__aterm")).then(L(4500) * A * nm * Dr * qc).otherwise(L(0))
         + pl.when(pl.col("__cfrac")).then(L(7500) * pb * Dr * Amp * qa).otherwise(L(0)))
    lf = lf.with_columns(
        pl.max_horizontal(P, L(0)).alias("__P"), (qa * qc).alias("__q"),
        (L(300) * Dr * Amp).alias("__K"),
    ).with_columns(
        (_FLOAT_SIGN * pl.col("__P").cast(pl.Float64) / pl.col("__q").cast(pl.Float64))
        .alias("__f"),
    )
    df = lf.collect()
    lf = df.lazy()

    # ---- rank within (period, team): sort by the float score, verify exactly
    s = (df.lazy().select("__i", "__ord", "team", "__P", "__q", "__f")
         .sort(["__ord", "team", "__f"], descending=[False, False, True])
         .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"))
         .with_columns(
             ((pl.col("__ord") == pl.col("__ord").shift(1))
              & (pl.col("team") == pl.col("team").shift(1))).fill_null(False).alias("__same"),
             (pl.col("__P").shift(1) * pl.col("__q") - pl.col("__P") * pl.col("__q").shift(1))
             .alias("__cmp"),
         ).with_columns(
             pl.when(~pl.col("__same")).then(pl.col("__pos")).forward_fill().alias("__start"),
             (pl.col("__same") & (pl.col("__cmp") == 0)).alias("__tie"),
             (pl.col("__same") & (pl.col("__cmp") < 0)).alias("__misordered"),
         ).with_columns(
             pl.when(pl.col("__tie")).then(None)
             .otherwise(pl.col("__pos") - pl.col("__start") + 1).forward_fill().alias("rank"),
         ).select("__i", "__ord", "team", "__P", "__q", "rank", "__misordered")
         .collect())
    if s.get_column("__misordered").any():
        s = _fix_ranks(s)
    ranks = s.select("__i", "rank").sort("__i").get_column("rank")
    lf = df.with_columns(ranks.cast(pl.Int64).alias("rank")).lazy()

    # ---- streak: first in this and the two previous months (same agent). Only
    # first places matter, so two semi-joins of the (few) first places with
    # themselves one and two months on; (agent, month) is unique in a valid batch.
    firsts = lf.filter(pl.col("rank") == 1).select("__i", "agent", "__ord")
    later1 = firsts.select("agent", (pl.col("__ord") + 1).alias("__ord"))
    later2 = firsts.select("agent", (pl.col("__ord") + 2).alias("__ord"))
    streak_rows = (firsts.join(later1, on=["agent", "__ord"], how="semi")
                   .join(later2, on=["agent", "__ord"], how="semi")
                   .select("__i").collect().get_column("__i"))
    streak = pl.col("__i").is_in(streak_rows.implode())

    # ---- pay, in cents
    # integer width for pay: Int64 when the batch's bounds prove it enough (faster)
    W = pl.Int64 if bound["PAY"] < 2 ** 62 else pl.Int128

    def w(name):
        return pl.col(name).cast(W)

    def lit(v):
        return pl.lit(v, dtype=W)

    S, Ss = w("__sales"), w("__Ssum")
    has_sales = pl.col("__Ssum") > 0
    perf = pl.when(has_sales).then((lit(2) * w("__bonus_pool") * S + Ss) // (lit(2) * Ss)) \
        .otherwise(lit(0))
    public = pl.when(has_sales).then((lit(10) * w("__public_sales") * S + lit(1000) * Ss)
                                     // (lit(2000) * Ss)).otherwise(lit(0))
    lf = lf.with_columns(
        perf.alias("__perf"), public.alias("__pub"),
        pl.when(streak).then(300).otherwise(0).cast(pl.Int64).alias("streak_bonus"),
    ).with_columns(
        ((pl.col("__perf") + lit(1)) // lit(2)).alias("__m"),
        ((lit(2) * pl.col("__perf") + lit(5)) // lit(10)).alias("__dq"),
    )

    zero20 = L(0)
    out = lf.select(
        pl.col("agent"), pl.col("period"),
        pl.col("response"),
        decimal_column(pl.col("__attitude"), 2).alias("attitude_item"),
        dec20(pl.when(pl.col("__rterm"))
              .then(div20(L(10) * i128("__good_reviews"), i128("__gmax"),
                          10 * bound["G"], bound["G"]))
              .otherwise(zero20)).alias("reviews"),
        dec20(pl.when(pl.col("__aterm"))
              .then(div20(L(15) * A * nm, n * Am, 15 * bound["A"] * bound["N"],
                          bound["A"] * bound["N"]))
              .otherwise(zero20)).alias("aov"),
        dec20(pl.when(pl.col("__csat")).then(L(15 * 10 ** 20))
              .when(pl.col("__cfrac")).then(div20(L(25) * pb, inq, 25 * bound["PB"], bound["I"]))
              .otherwise(zero20)).alias("conversion"),
        pl.col("aftersales"),
        dec20(div20(i128("__ssum"), L(300), 3000, 300)).alias("skills"),
        dec20(div20(pl.col("__P"), pl.col("__q") * pl.col("__K"), bound["P"],
                    300 * bound["N"] * bound["I"] * bound["G"] * bound["A"])).alias("score"),
        pl.col("rank"),
        dec20(pl.when(has_sales).then(div20(i128("__sales"), i128("__Ssum"), bound["S"],
                                            bound["SS"])).otherwise(zero20)).alias("share"),
        decimal_column(pl.col("__perf"), 2).alias("performance_pay"),
        decimal_column(pl.col("__pub"), 2).alias("public_commission"),
        pl.col("streak_bonus"),
        decimal_column(pl.col("__m"), 2).alias("pay_month_part"),
        decimal_column(pl.col("__dq"), 2).alias("deferred_quarterly"),
        decimal_column(pl.col("__perf") - pl.col("__m") - pl.col("__dq"), 2)
        .alias("deferred_annual"),
        decimal_column(i128("__position_wage") + i128("__m") + i128("__pub")
                       + L(100) * i128("streak_bonus"), 2).alias("pay_monthly"),
    ).collect()
    return out


def _fix_aov_max(lf: pl.LazyFrame, wrong: pl.DataFrame) -> pl.LazyFrame:
    """Teams where the float key did not find the highest AOV: find it exactly."""
    best: dict = {}
    for _i, o, team, a, m in wrong.iter_rows():
        v = Fraction(a, m) if m else Fraction(0)
        k = (o, team)
        if k not in best or v > best[k][0]:
            best[k] = (v, a, m)
    fix = pl.DataFrame(
        {"__ord": [k[0] for k in best], "team": [k[1] for k in best],
         "__Am2": [b[1] for b in best.values()], "__nm2": [b[2] for b in best.values()]},
        schema_overrides={"__ord": pl.Int32, "__Am2": pl.Int64, "__nm2": pl.Int64},
    )
    return (lf.join(fix.lazy(), on=GROUP, how="left", maintain_order="left")
            .with_columns(pl.coalesce("__Am2", "__Am").alias("__Am"),
                          pl.coalesce("__nm2", "__nm").alias("__nm"))
            .drop("__Am2", "__nm2")
            .with_columns(((pl.col("__nm") == 0) | (pl.col("__Am") == 0)).alias("__zaov")))


def _fix_ranks(s: pl.DataFrame) -> pl.DataFrame:
    """Teams where the float order was wrong somewhere: rank them with exact fractions."""
    bad = s.filter(pl.col("__misordered")).select("__ord", "team").unique()
    part = s.join(bad, on=["__ord", "team"], how="semi")
    groups: dict = {}
    for i, o, team, P, q in part.select("__i", "__ord", "team", "__P", "__q").iter_rows():
        groups.setdefault((o, team), []).append((i, Fraction(P, q)))
    fixed = {}
    for members in groups.values():
        for i, v in members:
            fixed[i] = 1 + sum(1 for _, w in members if w > v)
    patch = pl.DataFrame({"__i": list(fixed), "__r": list(fixed.values())},
                         schema={"__i": pl.Int64, "__r": pl.Int64})
    return (s.join(patch, on="__i", how="left", maintain_order="left")
            .with_columns(pl.coalesce("__r", "rank").alias("rank")).drop("__r"))
