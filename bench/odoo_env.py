"""Boot Odoo on the benchmark database and measure a piece of work.

Shared by the bench_*.py scripts. Every measurement runs in its own
process (``measure_in_subprocess``) so peak memory figures are its own.
"""

import contextlib
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.environ.get("ODOO_SRC", "/opt/odoo18"))

import odoo
from odoo import SUPERUSER_ID, api, sql_db

DB = os.environ.get("CLINIC_BENCH_DB", "clinic_bench")


def boot():
    """Parse Odoo's configuration for the bench database and return its registry."""
    repo = os.environ["REPO_DIR"]
    odoo.tools.config.parse_config(
        [
            f"--addons-path={os.environ['ODOO_SRC']}/addons,{repo}",
            f"--data-dir={os.environ.get('STATE_DIR', repo + '/.local')}/data",
            f"--db_host={os.environ.get('DB_HOST', 'localhost')}",
            f"--db_port={os.environ.get('DB_PORT', '5432')}",
            f"--db_user={os.environ.get('DB_USER', 'odoo')}",
            f"--db_password={os.environ.get('DB_PASSWORD', 'odoo')}",
            "--log-level=warn",
            "--max-cron-threads=0",
        ]
    )
    boot.registry = odoo.modules.registry.Registry(DB)
    return boot.registry


@contextlib.contextmanager
def environment(registry, context=None):
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, context or {})


def _rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Measure:
    """Wall time, SQL queries and memory of a block.

    Memory is the process's peak resident size (``ru_maxrss``) and how much
    it grew over the block: each measurement runs in its own process (see
    ``measure_in_subprocess``), so the growth is the block's own. (tracemalloc
    is not used: it slows Python code two to three times, which would
    distort every ORM-versus-SQL ratio.)
    """

    def __enter__(self):
        self.rss_before = _rss_mb()
        self.queries = sql_db.sql_counter
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.query_count = sql_db.sql_counter - self.queries
        self.max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return False

    def result(self, **extra):
        return {
            "seconds": round(self.seconds, 3),
            "queries": self.query_count,
            "peak_mb": round(max(self.max_rss - self.rss_before, 0), 1),
            "max_rss_mb": round(self.max_rss, 1),
            **extra,
        }


def emit(result):
    """Print the result of a subprocess measurement for the parent to read."""
    print("BENCH-RESULT " + json.dumps(result), flush=True)


def measure_in_subprocess(script, args, timeout):
    """Run ``script --phase ...`` in a fresh process; return its result dict,
    or ``{"timeout": seconds}`` if it ran past ``timeout``."""
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [sys.executable, script, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        result = {"timeout": round(time.perf_counter() - started)}
        output = expired.stdout or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        progress = [line.split()[1:] for line in output.splitlines() if line.startswith("PROGRESS ")]
        if progress:
            result["progress"] = (int(progress[-1][0]), float(progress[-1][1]))
        return result
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line[len("BENCH-RESULT ") :])
    sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-5000:])
    raise RuntimeError(f"{script} {' '.join(args)} gave no result (exit {completed.returncode})")


def ratio(numerator, denominator):
    if not denominator:
        return "n/a"
    return f"{numerator / denominator:.2f}"


def fmt(result, done, limit_seconds=None, unit="records"):
    """One line for a measurement: seconds, queries, memory and ``done(result)``
    (e.g. "1000 tasks"); a run stopped at its time limit reads "stopped after
    N s" with the pace it had by then (so the figure is "at least")."""
    if "timeout" in result:
        pace = ""
        if result.get("progress"):
            count, seconds = result["progress"]
            pace = f", {count} {unit} processed by then ({count / seconds:.1f}/s)"
        limit = f" (over {limit_seconds // 60} min)" if limit_seconds else ""
        return f"stopped after {result['timeout']} s{limit}{pace}"
    return (
        f"{result['seconds']:>8.2f} s  {result['queries']:>8} queries  memory +{result['peak_mb']:.0f} MB "
        f"(peak RSS {result['max_rss_mb']:.0f} MB)  {done(result)}"
    )


def check_equal(label, expected, actual):
    """Stop the benchmark when two contenders did not produce the same
    result: a ratio between different work means nothing."""
    if expected != actual:
        raise SystemExit(f"UNEQUAL OUTPUT ({label}): {expected!r} != {actual!r}; no ratio is printed")
    print(f"     equal output checked: {label}", flush=True)


def machine():
    """What the figures were measured on (for bench/RESULTS.md)."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with environment(boot.registry) as env:
        env.cr.execute("SHOW server_version")
        postgres = env.cr.fetchone()[0]
    return f"{os.cpu_count()} cores ({cpu}), PostgreSQL {postgres}, Python {platform.python_version()}"


def save(name, payload):
    """Keep the run's figures as JSON in bench/results/ (git-ignored; the
    last full run is copied by hand into bench/RESULTS.md)."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as out:
        json.dump(payload, out, indent=2, default=str)
    print(f"\nfigures saved in {path}")


def report_automation_progress(registry, every=250):
    """Make the stock automation scheduler print ``PROGRESS <records>
    <seconds>`` as it goes, so a run stopped at its time limit still gives
    its pace (its single transaction commits nothing before the end)."""
    automation_class = registry["base.automation"]
    stock_process = automation_class._process
    done = {"count": 0, "start": time.perf_counter()}

    def counting_process(self, records, domain_post=None):
        result = stock_process(self, records, domain_post=domain_post)
        done["count"] += len(records)
        if done["count"] % every == 0:
            print(f"PROGRESS {done['count']} {time.perf_counter() - done['start']:.1f}", flush=True)
        return result

    automation_class._process = counting_process


class PartTimer:
    """Wall time spent in chosen model methods during a profiled run:
    ``wrap(model, method, label)`` patches the registry's class; ``parts()``
    gives the seconds per label in the order wrapped (labels starting with
    two spaces are parts of the one above)."""

    def __init__(self, registry):
        self.registry = registry
        self.seconds = {}
        self.order = []

    def wrap(self, model, name, label):
        self.order.append(label)
        cls = self.registry[model]
        function = getattr(cls, name)
        seconds = self.seconds

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(cls, name, wrapper)

    def parts(self):
        return {label: self.seconds[label] for label in self.order if label in self.seconds}


def print_parts(profile, heading, rest_label, top_heading="top functions by own time:"):
    """Print a profiled run: ``heading``, each part with its share of
    ``profile["total"]`` (what the top-level parts leave: ``rest_label``),
    then the profiler's top functions."""
    total = profile["total"]
    print(heading)
    parts = profile["parts"]
    outside = sum(seconds for name, seconds in parts.items() if not name.startswith("  "))
    parts[rest_label] = max(total - outside, 0.0)
    for name, seconds in parts.items():
        print(f"     {seconds:8.2f} s  {100 * seconds / total:5.1f} %  {name}")
    print(f"     {top_heading}")
    for line in profile["top"].splitlines():
        if line.strip():
            print("       " + line[:150])
