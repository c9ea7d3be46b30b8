"""Runtime support for compiled policies: record validation, periods, exact
rounding, cohort and history helpers, errors.

This module uses only the standard library: its source is embedded verbatim in
every module `policyc compile` writes, so a compiled policy runs without
policyc installed. Everything here is exact: numbers are int, Decimal (under a
context that traps any inexact step) or Fraction.
"""

import decimal
import math
import re
from decimal import Decimal
from fractions import Fraction

_CTX = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=decimal.ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)

# Rounding is meant to be inexact: it gets its own context, without that trap.
_ROUND_CTX = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                             traps=[decimal.InvalidOperation, decimal.Overflow])


def exact_context():
    """Return a context manager under which Decimal +, -, × are exact."""
    return decimal.localcontext(_CTX)


# ───────────────────────── errors ─────────────────────────


class RecordIssue:
    """One problem with one record: which record, which field, and why."""

    __slots__ = ("index", "agent", "period", "field", "fields", "reason")

    def __init__(self, index, agent, period, field, reason, fields=None):
        self.index = index
        self.agent = agent
        self.period = period
        self.field = field
        self.fields = tuple(fields) if fields else ((field,) if field is not None else ())
        self.reason = reason

    def as_dict(self):
        """Return the issue as a plain dict (record is 1-based)."""
        return {"record": self.index + 1, "agent": self.agent, "period": self.period,
                "field": self.field, "fields": list(self.fields), "reason": self.reason}

    def __str__(self):
        who = "agent %s, period %s" % tuple("?" if x is None else repr(x) for x in (self.agent, self.period))
        if self.field is None:
            return "record %d (%s): %s" % (self.index + 1, who, self.reason)
        if len(self.fields) > 1:
            where = "fields " + ", ".join(repr(f) for f in self.fields)
        else:
            where = "field %r" % (self.field,)
        return "record %d (%s): %s: %s" % (self.index + 1, who, where, self.reason)

    def __repr__(self):
        return "RecordIssue(%s)" % self


class RecordError(ValueError):
    """Records that do not fit the policy; `.errors` lists every problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        head = "%d bad record(s); nothing was scored" % len({e.index for e in self.errors})
        super().__init__(head + "\n" + "\n".join("  " + str(e) for e in self.errors))


class PolicyRuntimeError(RuntimeError):
    """A policy reached a state its checker should have ruled out (a bug to report)."""


class _Bad(Exception):
    pass


# ───────────────────────── reading values ─────────────────────────

_NUM_RE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NA_TEXT = {"", "na", "n/a", "none", "null"}


def _to_decimal(v):
    t = type(v)
    if t is Decimal:
        d = v
    elif t is int:
        return v
    elif t is str:
        s = v.strip()
        if not _NUM_RE.fullmatch(s):
            if s.lower() in ("nan", "+nan", "-nan"):
                raise _Bad("NaN is not a number")
            if s.lower().lstrip("+-") in ("inf", "infinity"):
                raise _Bad("infinity is not a number")
            raise _Bad("wrong type: string %r is not a decimal number" % v)
        d = Decimal(s)
    elif t is bool:
        raise _Bad("wrong type: %s is a boolean, not a number" % ("true" if v else "false"))
    elif t is float:
        if v != v:
            raise _Bad("NaN is not a number")
        if v in (float("inf"), float("-inf")):
            raise _Bad("infinity is not a number")
        d = Decimal(repr(v))
    elif isinstance(v, Fraction):
        if not _terminates(v):
            raise _Bad("%s has no exact decimal value" % v)
        return _fraction_to_decimal(v)
    elif isinstance(v, int):
        return int(v)
    elif isinstance(v, Decimal):
        d = v
    elif v is None:
        raise _Bad("missing value")
    else:
        raise _Bad("wrong type: %s is not a number" % type(v).__name__)
    if not d.is_finite():
        raise _Bad("NaN is not a number" if d.is_nan() else "infinity is not a number")
    if not d:
        return 0
    return d


def _terminates(f):
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _places(f):
    """How many decimal places the exact decimal form of f has; None when it has none."""
    d, places = f.denominator, 0
    for p in (2, 5):
        k = 0
        while d % p == 0:
            d //= p
            k += 1
        places = max(places, k)
    return places if d == 1 else None


SHOWN_PLACES = 20  # a fraction with no decimal form of at most this many places is shown rounded to them


def _fraction_to_decimal(f):
    with decimal.localcontext(_CTX):
        return Decimal(f.numerator) / Decimal(f.denominator)


def _fmt(d):
    if isinstance(d, Fraction):
        return str(d) if d.denominator != 1 else str(d.numerator)
    return format(d, "f") if isinstance(d, Decimal) else str(d)


def _fmt_bound(x):
    return "∞" if x is None else _fmt(x)


def _domain_text(domain):
    parts = []
    for lo, hi in domain:
        if lo is not None and lo == hi:
            parts.append(_fmt(lo))
        elif hi is None:
            parts.append("[%s, ∞)" % _fmt(lo))
        elif lo is None:
            parts.append("(-∞, %s]" % _fmt(hi))
        else:
            parts.append("[%s, %s]" % (_fmt(lo), _fmt(hi)))
    return parts


def _in_domain(x, domain):
    for lo, hi in domain:
        if (lo is None or x >= lo) and (hi is None or x <= hi):
            return True
    return False


def read_count(v):
    """Read a whole number ≥ 0."""
    if type(v) is int:
        if v < 0:
            raise _Bad("negative count: %d" % v)
        return v
    d = _to_decimal(v)
    if type(d) is not int:
        if d != d.to_integral_value():
            raise _Bad("not an integer: %s" % _fmt(d))
        d = int(d)
    if d < 0:
        raise _Bad("negative count: %d" % d)
    return d


_KIND_WORD = {"percent": "percent", "duration": "duration", "money": "money"}
_DEFAULT = {
    "percent": ((0, 1),),
    "duration": ((0, None),),
    "money": ((0, None),),
    "count": ((0, None),),
}


def read_number(v, kind, domain, name):
    """Read a decimal number of an input kind and check it against its domain."""
    if kind == "count":
        d = read_count(v)
    else:
        d = _to_decimal(v)
        if type(d) is int:
            d = Decimal(d)
        _check_size(d)
    dom = domain if domain else _DEFAULT.get(kind)
    if dom and not _in_domain(d, dom):
        if not domain and kind in ("duration", "money") and d < 0:
            raise _Bad("negative %s: %s" % (kind, _fmt(d)))
        texts = _domain_text(dom)
        word = "percent " if kind == "percent" else ""
        if len(texts) == 1:
            raise _Bad("%s%s outside %s" % (word, _fmt(d), texts[0]))
        raise _Bad("%s must be %s, got %s" % (name, _or_text(texts), _fmt(d)))
    return d


def _check_size(d):
    """Refuse magnitudes no assessment has (they would make exact arithmetic huge)."""
    if not -30 <= d.adjusted() <= 30:
        raise _Bad("%s is too large or too small for an assessment value" % _fmt(d))


def _or_text(texts):
    words = [t if not t.startswith("[") else "in " + t for t in texts]
    return " or ".join(words)


def read_label(v, labels):
    """Read one of the listed labels, exactly."""
    if type(v) is str and v in labels:
        return v
    if isinstance(v, str):
        raise _Bad("unknown label %r; expected one of %s" % (v, ", ".join(labels)))
    if v is None:
        raise _Bad("missing value (expected one of %s)" % ", ".join(labels))
    raise _Bad("wrong type: %s is not a label (expected one of %s)" % (type(v).__name__, ", ".join(labels)))


def read_text(v):
    """Read text: a string (numbers are not taken as text)."""
    if isinstance(v, str):
        return v
    raise _Bad("wrong type: %s is not text" % type(v).__name__)


_TRUE = {"true", "yes", "1", "是", "y"}
_FALSE = {"false", "no", "0", "否", "n"}


def read_bool(v):
    """Read true/false (CSV spellings true/false, yes/no, 1/0, 是/否 too)."""
    if v is True or v is False:
        return v
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise _Bad("wrong type: %r is not true or false" % (v,))


def is_na(v):
    """True if a raw value means 'not applicable'."""
    return v is None or (isinstance(v, str) and v.strip().lower() in _NA_TEXT)


# ───────────────────────── periods ─────────────────────────

_PERIODS = {
    "month": (re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])"), "a month", "2026-11"),
    "half_month": (re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])-H([12])"), "a half-month", "2026-11-H1"),
    "quarter": (re.compile(r"([0-9]{4})-Q([1-4])"), "a quarter", "2026-Q4"),
    "year": (re.compile(r"([0-9]{4})"), "a year", "2026"),
}


def read_period(v, kind):
    """Read a period label of the given kind; return its ordinal (consecutive periods differ by 1)."""
    rx, words, example = _PERIODS[kind]
    if not isinstance(v, str):
        raise _Bad("wrong type: the period must be a label like %s" % example)
    m = rx.fullmatch(v)
    if m is None:
        raise _Bad("%r is not %s label (expected e.g. %s)" % (v, words, example))
    g = [int(x) for x in m.groups()]
    if kind == "month":
        return g[0] * 12 + g[1] - 1
    if kind == "half_month":
        return (g[0] * 12 + g[1] - 1) * 2 + g[2] - 1
    if kind == "quarter":
        return g[0] * 4 + g[1] - 1
    return g[0]


# ───────────────────────── arithmetic ─────────────────────────

_MODES = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
}


def to_fraction(x):
    """Return x as a Fraction (exact)."""
    return x if isinstance(x, Fraction) else Fraction(x)


def round_to(x, quantum, mode):
    """Round x (int, Decimal or Fraction) to a multiple of quantum (a Fraction with a
    finite decimal form); return a Decimal with as many places as the quantum has."""
    q = Fraction(quantum)
    n = _round_fraction(to_fraction(x) / q, mode)
    places = 0
    while (q * 10 ** places).denominator != 1:
        places += 1
    scaled = n * q * 10 ** places
    return Decimal(scaled.numerator).scaleb(-places, _CTX)


def _round_fraction(f, mode):
    floor = math.floor(f)
    rest = f - floor
    if rest == 0:
        return floor
    if mode == "down":
        return floor if f > 0 else floor + 1
    if mode == "up":
        return floor + 1 if f > 0 else floor
    half = Fraction(1, 2)
    if rest > half:
        return floor + 1
    if rest < half:
        return floor
    if mode == "half_even":
        return floor if floor % 2 == 0 else floor + 1
    return floor + 1 if f > 0 else floor  # half_up: ties away from zero


def round_decimal(x, exp, mode):
    """Round an int or Decimal to the power-of-ten step `exp` (a Decimal), exactly."""
    if type(x) is not Decimal:
        x = Decimal(x) if type(x) is int else Decimal(x.numerator) / Decimal(x.denominator)
    return x.quantize(exp, rounding=_MODES[mode], context=_ROUND_CTX)


def public_number(x, whole):
    """Return an output number: int for whole counts, else an exact Decimal.

    A fraction whose exact decimal form is longer than 20 places (a third, or 2^-21) is given
    to 20 decimal places, half-up, as every engine gives it.
    """
    if x is None:  # N/A (an optional input read as is, a `previous` with no record before)
        return None
    if whole:
        if type(x) is int:
            return x
        f = to_fraction(x)
        if f.denominator == 1:
            return f.numerator
    if type(x) is Decimal:
        return x if x else x.copy_abs()  # no negative zero in results
    if type(x) is int:
        return Decimal(x)
    if isinstance(x, Fraction):
        places = _places(x)
        if places is not None and places <= SHOWN_PLACES:
            return _fraction_to_decimal(x)
        return round_to(x, Fraction(1, 10 ** SHOWN_PLACES), "half_up")
    return x


def linear(x, points):
    """Interpolate on the straight line between the points around x; flat outside."""
    x = to_fraction(x)
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def marginal(x, slices):
    """Sum each slice's portion of x times the slice's rate (progressive tiers)."""
    x = to_fraction(x)
    total = Fraction(0)
    for lo, hi, rate in slices:
        if x <= lo:
            break
        top = x if hi is None or x < hi else hi
        total += (top - lo) * rate
    return total


def weighted(rows, critical):
    """Weighted mean over the applicable (non-None) criteria; 0 if a critical one fails."""
    if not all(critical):
        return Fraction(0)
    num = Fraction(0)
    den = Fraction(0)
    for w, v in rows:
        if v is not None:
            num += w * to_fraction(v)
            den += w
    if den == 0:
        return None
    return num / den


def split_part(amount, ratios, index, quantum, mode, rational=False):
    """Part `index` of amount split by ratios; all but the last rounded, the last the rest.

    Returns a Fraction when `rational` (the amount itself is a rational), else a Decimal.
    """
    total = sum(ratios)
    whole = to_fraction(amount)
    parts = [round_to(whole * r / total, quantum, mode) for r in ratios[:-1]]
    if index < len(parts):
        return Fraction(parts[index]) if rational else parts[index]
    rest = whole - sum(Fraction(p) for p in parts)
    if rational:
        return rest
    if (rest / Fraction(quantum)).denominator == 1:  # show the rest with the parts' decimals
        return round_to(rest, quantum, mode)
    return _fraction_to_decimal(rest)


_POW10 = [10 ** k for k in range(64)]


def div_round(a, b, places, mode):
    """Round a / b to `places` decimals, exactly; return a Decimal.

    a and b are ints or Decimals. The quotient is an exact integer division of
    a·10^places by b; the remainder decides the last digit.
    """
    an, ad = (a, 1) if type(a) is int else a.as_integer_ratio()
    bn, bd = (b, 1) if type(b) is int else b.as_integer_ratio()
    if bn == 0:
        raise ZeroDivisionError("division by zero")
    num = an * bd * _POW10[places]
    den = ad * bn
    if den < 0:
        num, den = -num, -den
    q, r = divmod(num, den)  # floor division: 0 <= r < den
    if r:
        if mode == "down":
            q += num < 0
        elif mode == "up":
            q += num > 0
        else:
            twice = 2 * r
            if twice > den or (twice == den and (q % 2 if mode == "half_even" else num > 0)):
                q += 1
    return Decimal(q).scaleb(-places, _CTX)


def no_row(table):
    """Raise: no row of a table matched (the checker should prove this impossible)."""
    raise PolicyRuntimeError("no row of %s matched" % table)


# ───────────────────────── cohorts and history ─────────────────────────


def groups(keys):
    """Return {key: [indexes]} in first-seen order."""
    out = {}
    for i, k in enumerate(keys):
        out.setdefault(k, []).append(i)
    return out


def cohort_aggregate(func, values, keys, descending=True):
    """Compute func over each record's cohort; return one value per record."""
    out = [None] * len(keys)
    for members in groups(keys).values():
        if func == "count":
            n = len(members) if values is None else sum(1 for i in members if values[i])
            for i in members:
                out[i] = n
            continue
        vals = [values[i] for i in members]
        if func == "max":
            r = max(vals, key=to_fraction)
        elif func == "min":
            r = min(vals, key=to_fraction)
        elif func == "sum":
            r = 0
            for v in vals:
                r = _CTX.add(r, v) if type(v) is Decimal else r + v
        elif func == "mean":
            r = sum(to_fraction(v) for v in vals) / len(vals)
        elif func == "rank":
            fr = [to_fraction(v) for v in vals]
            for i, v in zip(members, fr):
                better = sum(1 for w in fr if (w > v if descending else w < v))
                out[i] = better + 1
            continue
        else:
            raise ValueError(func)
        for i in members:
            out[i] = r
    return out


def history(func, values, agents, ordinals):
    """streak / previous per record, over the same agent's consecutive periods."""
    where = {(a, o): i for i, (a, o) in enumerate(zip(agents, ordinals))}
    out = [None] * len(values)
    if func == "previous":
        for i, (a, o) in enumerate(zip(agents, ordinals)):
            j = where.get((a, o - 1))
            out[i] = values[j] if j is not None else None
        return out
    order = sorted(range(len(values)), key=lambda i: ordinals[i])
    for i in order:
        if not values[i]:
            out[i] = 0
            continue
        j = where.get((agents[i], ordinals[i] - 1))
        out[i] = 1 + (out[j] if j is not None else 0)
    return out
