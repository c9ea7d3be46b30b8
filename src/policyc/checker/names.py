"""Names: the symbol table, what each definition refers to, and dependency order."""

from __future__ import annotations

from collections.abc import Iterator

from .. import ast
from ..diagnostics import Diagnostic, Note

RESERVED = {"agent", "period"}


def body_refs(body: ast.Body, label_def: bool = False) -> Iterator[ast.Name | str]:
    """Yield the names a body refers to (`"items"` for the items sum)."""
    yield from _refs(body, label_def)


class _ItemsRef(str):
    """`items` in a formula: equal to "items", with the place it is written."""

    def __new__(cls, span):
        out = super().__new__(cls, "items")
        out.span = span
        return out


def _refs(node, label_def: bool) -> Iterator[ast.Name | str]:
    if node is None:
        return
    if isinstance(node, ast.Ref):
        yield node.name
    elif isinstance(node, ast.Items):
        yield _ItemsRef(node.span)
    elif isinstance(node, (ast.Number, ast.String, ast.BoolLit, ast.NaLit)):
        return
    elif isinstance(node, ast.Binary):
        yield from _refs(node.left, label_def)
        yield from _refs(node.right, label_def)
    elif isinstance(node, (ast.Neg, ast.Not)):
        yield from _refs(node.operand, label_def)
    elif isinstance(node, ast.Beyond):
        yield from _refs(node.operand, label_def)
        yield from _refs(node.allowance, label_def)
    elif isinstance(node, ast.Compare):
        for o in node.operands:
            yield from _refs(o, label_def)
    elif isinstance(node, ast.Logic):
        yield from _refs(node.left, label_def)
        yield from _refs(node.right, label_def)
    elif isinstance(node, ast.If):
        for x in (node.then, node.cond, node.otherwise):
            yield from _refs(x, label_def)
    elif isinstance(node, ast.Round):
        yield from _refs(node.operand, label_def)
        yield from _refs(node.quantum, label_def)
    elif isinstance(node, ast.Clamp):
        for x in (node.operand, node.lo, node.hi):
            yield from _refs(x, label_def)
    elif isinstance(node, (ast.WhenZero, ast.WhenNa)):
        yield from _refs(node.operand, label_def)
        yield from _refs(node.default, label_def)
    elif isinstance(node, ast.Call):
        for a in node.args:
            yield from _refs(a.value, label_def)
    elif isinstance(node, ast.Table):
        yield from _refs(node.subject, label_def)
        for row in node.rows:
            yield from _row_refs(row, label_def)
    elif isinstance(node, ast.Split):
        yield from _refs(node.amount, label_def)
    else:
        raise TypeError(f"unknown AST node {type(node).__name__}")


def _row_refs(row, label_def: bool) -> Iterator[ast.Name | str]:
    result = getattr(row, "result", None)
    if isinstance(row, ast.CmpRow):
        for _, e in row.tests:
            yield from _refs(e, label_def)
    elif isinstance(row, ast.RangeRow):
        yield from _refs(row.lo, label_def)
        yield from _refs(row.hi, label_def)
    elif isinstance(row, ast.CondRow):
        yield from _refs(row.cond, label_def)
    elif isinstance(row, ast.PointRow):
        yield from _refs(row.x, label_def)
        yield from _refs(row.y, label_def)
    elif isinstance(row, ast.SliceRow):
        for x in (row.lo, row.hi, row.rate):
            yield from _refs(x, label_def)
    elif isinstance(row, ast.WeightRow):
        yield from _refs(row.value, label_def)
    elif isinstance(row, (ast.CriticalRow, ast.GateRow)):
        yield from _refs(row.cond, label_def)
    if result is not None and not (label_def and isinstance(result, ast.Ref)):
        yield from _refs(result, label_def)


def dependency_order(
    defs: dict[str, ast.Definition], item_names: list[str], diagnostics: list[Diagnostic]
) -> list[str]:
    """Order definition names so each comes after what it uses; report cycles."""
    deps: dict[str, list[tuple[str, ast.Name | None]]] = {}
    for name, d in defs.items():
        out = []
        for r in body_refs(d.body, d.kind is ast.DefKind.LABEL):
            if r == "items":
                out += [(i, r) for i in item_names]
            elif r.id in defs:
                out.append((r.id, r))
        deps[name] = out
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    reported: set[frozenset] = set()

    def visit(n: str, path: list[tuple[str, ast.Name | None]]):
        st = state.get(n)
        if st == 2:
            return
        if st == 1:
            names = [p for p, _ in path]
            cycle = names[names.index(n):]
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                first = defs[cycle[0]]
                refs = path[names.index(n) + 1:]
                through_items = any(isinstance(ref, _ItemsRef) for _, ref in refs)
                diagnostics.append(
                    Diagnostic(
                        code="E203",
                        message="these definitions depend on each other in a circle: " + " → ".join(cycle),
                        span=first.names[0].span,
                        label="defined in terms of itself",
                        notes=tuple(
                            Note(message=f"`{a}` uses `items` here, the sum of every item, `{b}` included"
                                 if isinstance(ref, _ItemsRef) else f"`{a}` uses `{b}` here",
                                 span=ref.span if ref is not None else None)
                            for a, (b, ref) in zip(cycle, refs)
                        ),
                        suggestion="an item cannot depend on `items`, even through another value (it would "
                                   "depend on itself): name the other items instead (`base + quality`)"
                        if through_items else None,
                    )
                )
            return
        state[n] = 1
        for dep, ref in deps[n]:
            visit(dep, path + [(dep, ref)])
        state[n] = 2
        order.append(n)

    for n in defs:
        visit(n, [(n, None)])
    return order
