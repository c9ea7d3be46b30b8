"""The Spark engine: the SQL backend's query (dialect `spark`) run by Spark SQL.

`score_spark(policy, source)` scores a Polars, pandas or Arrow frame, a Parquet file or a
Spark DataFrame on a Spark session (`session()`: the active one, else a new one on
`$POLICYC_SPARK_MASTER`, default `local[*]`), and returns a Polars frame like the other
engines. `spark_query(policy, sdf)` gives the scoring as a lazy Spark DataFrame instead, for a
pipeline that stays on the cluster.

The session runs in ANSI mode, so Spark's `DECIMAL(38, 0)` arithmetic fails on overflow
instead of returning NULL: a result is exact or the query fails. Numeric inputs are read at
the scale of their column type (`DECIMAL(p, s)`: s; integers: 0); text columns are profiled
first (the most decimals any value has), as the DuckDB engine does.

A failed query is explained the way the other engines explain it: the validation query runs,
and if it finds a bad record the batch goes to the Python engine's reader, which reports every
bad record exactly as `policyc score` does (so the records are brought to the driver; a
cluster pipeline should run `compile_validation_sql` itself). A failure without a bad record is
an `EngineLimit` (a value beyond 38 digits, a rank the exact proof refused).
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings

from .. import ir
from . import sql
from .polars_engine import EngineLimit

ROW = "_policyc_row"
_NUMERIC = sql._NUMERIC


def available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def session(master: str | None = None):
    """The active Spark session, else a new local one; ANSI mode on either way."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - exercised only without pyspark
        raise ImportError("the spark engine needs PySpark (and Java): pip install 'policyc[spark]'") from e
    spark = SparkSession.getActiveSession()
    if spark is None:
        spark = (SparkSession.builder.appName("policyc")
                 .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_logging()}")
                 .master(master or os.environ.get("POLICYC_SPARK_MASTER", "local[*]"))
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")  # policyc score draws its own
                 .config("spark.sql.ansi.enabled", "true")
                 .getOrCreate())
        # a bad record fails a task, which Spark would log as an ERROR with a Java stack trace;
        # policyc reports it itself, in its own words (a session the caller made keeps its level)
        spark.sparkContext.setLogLevel("OFF")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    return spark


_LOG4J2 = """\
# policyc: a Spark session policyc starts logs nothing (policyc reports failures itself)
rootLogger.level = off
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %m%n
"""


def _quiet_logging() -> str:
    """A log4j2 configuration that logs nothing, as a file URI for the driver's JVM."""
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / "policyc-spark-log4j2.properties"
    try:
        if not path.exists() or path.read_text(encoding="utf-8") != _LOG4J2:
            path.write_text(_LOG4J2, encoding="utf-8")
    except OSError:  # (another user's file, a read-only directory: a file of our own instead)
        fd, name = tempfile.mkstemp(prefix="policyc-spark-", suffix=".properties")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_LOG4J2)
        path = Path(name)
    return path.as_uri()


def _spark_type(t) -> str | None:
    """The SQL type name the SQL backend reads a column by, for integer, decimal and boolean
    Spark types; None for the rest (read from their text)."""
    from pyspark.sql import types as T

    if isinstance(t, T.DecimalType):
        return f"DECIMAL({t.precision},{t.scale})"
    if isinstance(t, (T.LongType, T.IntegerType, T.ShortType, T.ByteType)):
        return "BIGINT"
    if isinstance(t, T.BooleanType):
        return "BOOLEAN"
    return None


def _register(spark, sdf) -> str:
    view = f"policyc_{uuid.uuid4().hex}"
    sdf.createOrReplaceTempView(view)
    return view


def spark_query(policy, sdf, scales: dict | None = None):
    """The scoring of a Spark DataFrame of records as a lazy Spark DataFrame (agent, period and
    the outputs, ordered by agent and period). `scales`: decimal places of numeric inputs held as
    text (default: their column types', else sql.DEFAULT_SCALES). Running it fails on a bad record
    or a value beyond the engine's exact arithmetic; it never returns an approximate result."""
    p: ir.Policy = policy.ir
    spark = sdf.sparkSession
    types = {f.name: _spark_type(f.dataType) for f in sdf.schema.fields}
    types = {k: v for k, v in types.items() if v is not None and k in {i.name for i in p.inputs}}
    given = dict(scales or {})
    for name, t in types.items():
        kind = sql._sql_type(t)
        given.setdefault(name, 0 if kind[0] == "int" else kind[2] if kind[0] == "decimal" else None)
    given = {k: v for k, v in given.items() if v is not None}
    view = _register(spark, sdf)
    return spark.sql(sql.compile_sql(p, "spark", view, given, types=types, pretty=False))


class _Fallback(Exception):
    pass


def score_spark(policy, source, *, spark=None):
    """Score records on Spark: `source` is a Polars, pandas or Arrow frame, the path of a Parquet
    file, or a Spark DataFrame. Returns a Polars frame of agent, period and the outputs in the
    records' order; bad records raise RecordError exactly as `score_batch` does; a batch Spark
    cannot compute exactly raises EngineLimit."""
    import polars as pl

    from . import polars_engine as pe

    path = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    if path is not None and not path.lower().endswith((".parquet", ".pq")):  # (before starting Spark)
        raise ValueError("the spark engine reads Parquet files; read a CSV file into a frame first")
    # PySpark warns about pandas versions on import paths policyc does not use
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
    spark = spark or session()
    tmp = None
    local = None  # the records as a Polars frame, for the Python reader if it must report them
    if path is not None:
        sdf = spark.read.parquet(path)

        def local_frame():
            return pl.read_parquet(path)
    elif type(source).__module__.startswith("pyspark"):
        sdf = source

        def local_frame():
            return pl.from_arrow(source.toArrow())
    else:
        local = pe.to_polars(source)
        if ROW in local.columns or local.width == 0 or local.height == 0:
            return pe._python(policy, local)
        # handed over as a Parquet file Spark reads in parallel (not through the driver's memory,
        # which a large frame would exceed); deleted once the results are back
        tmp = tempfile.TemporaryDirectory(prefix="policyc-spark-")
        path = os.path.join(tmp.name, "records.parquet")
        local.write_parquet(path)
        sdf = spark.read.parquet(path)

        def local_frame():
            return local
    try:
        return _score(policy, spark, sdf, local, local_frame)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _score(policy, spark, sdf, local, local_frame):
    from pyspark.sql import functions as F

    from . import polars_engine as pe

    p: ir.Policy = policy.ir
    try:
        if ROW in sdf.columns:
            raise _Fallback()
        sdf = sdf.withColumn(ROW, F.monotonically_increasing_id())
        fields = {f.name: f.dataType for f in sdf.schema.fields}
        if not _columns_ok(p, fields):
            raise _Fallback()
        types = {k: t for k, t in ((n, _spark_type(d)) for n, d in fields.items()) if t is not None and k != ROW}
        view = _register(spark, sdf)
        scales, scan, query = sql.profile_query(p, types, "spark", view)
        if query is not None:
            scales = sql.scales_from(scales, scan, spark.sql(query).collect()[0])
            if scales is None:
                raise _Fallback()
        try:
            query = sql.compile_sql(p, "spark", view, scales, row_id=ROW, types=types, pretty=False)
        except sql.SqlUnsupported as e:
            raise EngineLimit(f"the spark engine cannot compute this policy exactly: {e}") from e
        try:
            return _collect(spark.sql(query), F)
        except Exception as e:  # Spark's errors come through py4j / pyspark.errors
            failure = e
        check = sql.compile_validation_sql(p, "spark", view, scales, row_id=ROW, types=types, pretty=False)
        if spark.sql(check).limit(1).count():
            raise _Fallback() from None
        text = str(failure)
        if sql.MARK in text:
            what = text[text.index(sql.MARK) + len(sql.MARK):].strip().splitlines()[0]
            raise EngineLimit(what) from failure
        if any(w in text for w in ("ARITHMETIC_OVERFLOW", "NUMERIC_VALUE_OUT_OF_RANGE", "DIVIDE_BY_ZERO")):
            raise EngineLimit("a value does not fit the spark engine's exact 38-digit arithmetic") from failure
        raise failure
    except _Fallback:
        return pe._python(policy, local if local is not None else local_frame())


POS = "_policyc_pos"


def _collect(result, F):
    """The results as a Polars frame, in order: written by Spark as Parquet files (in parallel,
    not through the driver's memory, which a large batch's results would exceed) and read back,
    with each row's position after the query's ORDER BY."""
    import polars as pl

    with tempfile.TemporaryDirectory(prefix="policyc-spark-") as tmp:
        out = os.path.join(tmp, "scores")
        result.withColumn(POS, F.monotonically_increasing_id()).write.parquet(out)
        return pl.read_parquet(os.path.join(out, "*.parquet")).sort(POS).drop(POS)


def _columns_ok(p: ir.Policy, fields: dict) -> bool:
    """The columns the query can read: every input present (and no other, unless allowed),
    agent and period as text; anything else goes to the Python reader."""
    from pyspark.sql import types as T

    cols = set(fields) - {ROW}
    needed = {"agent", "period", *(i.name for i in p.inputs)}
    if needed - cols or (not p.allow_extra and cols - needed):
        return False
    if not isinstance(fields["agent"], T.StringType) or not isinstance(fields["period"], T.StringType):
        return False
    for inp in p.inputs:
        t = fields[inp.name]
        if inp.kind in _NUMERIC:
            ok = isinstance(t, (T.StringType, T.DecimalType, T.LongType, T.IntegerType, T.ShortType, T.ByteType))
        elif inp.kind == "bool":
            ok = isinstance(t, (T.BooleanType, T.StringType))
        else:
            ok = isinstance(t, T.StringType)
        if not ok:
            return False
    return True
