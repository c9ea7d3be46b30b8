"""The Python API: load a policy, score records, explain results."""

from __future__ import annotations

from pathlib import Path

from . import ir
from . import runtime as rt
from .diagnostics import Diagnostic


def load(path: str | Path) -> Policy:
    """Read, check and compile a policy file; raise PolicyError if it does not check."""
    from .compiler import read_policy

    text, name = read_policy(path)
    return loads(text, name)


def loads(text: str, filename: str = "<string>") -> Policy:
    """Check and compile policy text; raise PolicyError if it does not check."""
    from .compiler import compile_source  # the parser (and Lark) load on first use

    policy, diags = compile_source(text, filename)
    return Policy(policy, text, diags)


class Policy:
    """A checked, compiled policy: score records and explain the results."""

    def __init__(self, policy: ir.Policy, source: str, diagnostics: list[Diagnostic]):
        self.ir = policy
        self.source = source
        self.diagnostics = tuple(diagnostics)
        from .backends.python import PythonBackend

        self._backend = PythonBackend(policy)
        code = self._backend.module(standalone=False)
        namespace = {k: v for k, v in vars(rt).items() if not k.startswith("__")}
        namespace["__name__"] = f"policyc.compiled.{policy.name}"
        exec(compile(code, f"<policy {policy.file}>", "exec"), namespace)  # generated from the checked IR only
        self._ns = namespace

    @property
    def name(self) -> str:
        return self.ir.name

    @property
    def title(self) -> str | None:
        return self.ir.title

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.ir.inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.ir.outputs

    def manifest(self) -> dict:
        """Describe the policy's inputs and outputs (names, types, units, ranges, labels, docs)."""
        from .manifest import manifest

        return manifest(self.ir)

    def compile(self) -> str:
        """Return the source of a standalone module that scores with this policy."""
        from .backends.python import compile_policy

        return compile_policy(self.ir, standalone=True)

    def score(self, record: dict, *, allow_extra: bool = False) -> Result:
        """Score one record (as a batch of one); raise RecordError if it is bad."""
        return self.score_batch([record], allow_extra=allow_extra)[0]

    def score_batch(self, records: list[dict], *, allow_extra: bool = False) -> list[Result]:
        """Score a batch; cohort and history rules see the whole batch. Raise RecordError
        listing every bad record; then nothing is scored."""
        records = list(records)
        if allow_extra:
            known = {"agent", "period", *self.inputs}
            records = [{k: v for k, v in r.items() if k in known} if isinstance(r, dict) else r for r in records]
        envs = self._ns["evaluate_batch"](records)
        batch = _Batch(self, envs)
        return [Result(batch, i) for i in range(len(envs))]

    def score_frame(self, frame, *, engine: str = "auto"):
        """Score a frame of records (Polars, pandas or Arrow); return a Polars frame of
        agent, period and the outputs. `engine`: "polars" (columnar, exact), "duckdb" (the policy
        as one SQL query run by DuckDB, exact; `frame` may also be the path of a CSV or Parquet
        file), "spark" (the same query on Spark SQL: the active session, else a local one;
        `frame` may also be a Parquet path or a Spark DataFrame), "python" (the per-record engine), or "auto" (polars when installed and the batch
        fits it, else python). Bad records raise RecordError exactly as `score_batch` does."""
        from .backends import polars_engine as pe

        if engine not in ("auto", "polars", "duckdb", "spark", "python"):
            raise ValueError(f"unknown engine {engine!r} (auto, polars, duckdb, spark, python)")
        if engine == "spark":
            from .backends import spark_engine

            return spark_engine.score_spark(self, frame)
        if engine == "duckdb":
            from .backends import sql

            return sql.score_duckdb(self, frame)
        if engine == "python" or (engine == "auto" and not pe.available()):
            df = pe.to_polars(frame) if pe.available() else frame
            return pe._python(self, df)
        try:
            return pe.score_frame(self, frame)
        except pe.EngineLimit:
            if engine == "polars":
                raise
            return pe._python(self, pe.to_polars(frame))

    def __repr__(self) -> str:
        return f"<Policy {self.name} ({len(self.inputs)} inputs, {len(self.outputs)} outputs)>"


class _Batch:
    """The validated records of one scored batch, kept for explanations."""

    def __init__(self, policy: Policy, envs: list[list]):
        self.policy = policy
        self.envs = envs
        self._explained = None

    def slot(self, name: str) -> int:
        return self.policy._backend.slots[name]

    def rows(self):
        from .interp import Row

        p = self.policy.ir
        return [Row(e[0], e[1], e[2], {i.name: e[self.slot(i.name)] for i in p.inputs}) for e in self.envs]


class Result:
    """Every named value of one record's result; `explain()` says how each came about."""

    def __init__(self, batch: _Batch, index: int):
        self._batch = batch
        self._index = index
        env = batch.envs[index]
        p = batch.policy.ir
        self.agent: str = env[0]
        self.period: str = env[1]
        self.outputs: dict = {}
        self.values: dict = {}
        for d in p.definitions:
            if d.kind == "hidden":
                continue
            self.values[d.name] = _public(d, env[batch.slot(d.name)])
        for name in p.outputs:
            self.outputs[name] = self.values[name]

    def __getitem__(self, name: str):
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def as_row(self) -> dict:
        """agent, period and the outputs, as one flat dict (for tables and files)."""
        return {"agent": self.agent, "period": self.period, **self.outputs}

    def exact(self, name: str):
        """The exact value of `name`: a Fraction for numbers (no rounding to 20 places),
        else the value as in `values`."""
        from fractions import Fraction

        raw = self._batch.envs[self._index][self._batch.slot(name)]
        if isinstance(raw, (bool, str, list, tuple)) or raw is None:
            return raw
        return Fraction(raw)

    def explain(self, names=None) -> str:
        """Explain this result in the policy's own names: rows matched, arithmetic, gates, pay.
        `names` limits the explanation to those values."""
        from .explain import explain

        return explain(self._batch, self._index, None if names is None else set(names))

    def __repr__(self) -> str:
        return f"<Result {self.agent} {self.period}: {self.outputs}>"


def _public(d: ir.Definition, value):
    """Outputs that are always whole numbers are ints; other numbers are exact Decimals."""
    if d.type.kind != "num":
        return value
    return rt.public_number(value, d.type.repr is ir.Repr.INT)
