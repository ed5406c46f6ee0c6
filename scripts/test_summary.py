"""Summarise an Odoo test log into one closing line.

Usage: test_summary.py LOGFILE ODOO_EXIT_CODE [--coverage PCT --coverage-min PCT] [--upgrade RC] [--i18n RC]

Prints the failing tests, the skipped ones and any error logged outside a
test, then ``N passed, N failed, N skipped`` as the very last line. Exits 1
when anything failed, errored or was skipped (a skipped browser tour means
no browser ran it, which is a failure for us), or when Odoo itself failed.
With ``--coverage``, a line coverage below ``--coverage-min`` counts as one
failed check; with ``--upgrade``, the upgrade test counts as one check that
passed (exit code 0) or failed; so does the translation check with ``--i18n``.
"""

import argparse
import re
import sys

SUMMARY = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
SKIPPED = re.compile(r"^\S+ \S+ \d+ INFO \S+ \S+: skipped (.*)$")
LEVEL = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")
FAILED_TEST = re.compile(r"^\S+ \S+ \d+ ERROR \S+ \S+: (FAIL|ERROR): (.*)$")


def main(path, odoo_rc, coverage=None, coverage_min=0.0, upgrade_rc=None, i18n_rc=None):
    with open(path, encoding="utf-8", errors="replace") as log:
        lines = log.read().splitlines()

    summary = None  # summed over the Odoo runs in the log (the addon, then its bridges)
    skipped, failed_tests, stray_errors = [], [], []
    for line in lines:
        match = SUMMARY.search(line)
        if match:
            counts = tuple(int(g) for g in match.groups())
            summary = counts if summary is None else tuple(a + b for a, b in zip(summary, counts, strict=True))
            continue
        match = SKIPPED.match(line)
        if match:
            skipped.append(match.group(1))
            continue
        match = FAILED_TEST.match(line)
        if match:
            failed_tests.append(f"{match.group(1)}: {match.group(2)}")
            continue
        if LEVEL.match(line):
            stray_errors.append(line)

    if summary is None:
        print(f"Odoo exited with code {odoo_rc} before reporting any test result.")
        print("0 passed, 1 failed")
        return 1

    failures, errors, total = summary
    failed = failures + errors
    if not failed and stray_errors:
        # Errors logged outside a test (module install, a cron, a view) count too.
        failed = len(stray_errors)
    passed = max(total - failures - errors - len(skipped), 0)

    extra_bad = False
    if coverage is not None:
        ok = coverage >= coverage_min
        print(f"coverage {coverage:.1f} % of clinic_retention*/ lines (minimum {coverage_min:.0f} %)")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        extra_bad |= not ok
    if upgrade_rc is not None:
        ok = upgrade_rc == 0
        print("upgrade  from the previous release: " + ("data unchanged" if ok else "FAILED (see .local/upgrade.log)"))
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        extra_bad |= not ok
    if i18n_rc is not None:
        ok = i18n_rc == 0
        print("i18n     .pot up to date, zh_CN/fa/ru complete: " + ("yes" if ok else "NO (see .local/i18n.log)"))
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        extra_bad |= not ok
    for name in failed_tests:
        print(f"failed   {name}")
    for line in stray_errors:
        print(f"error    {line}")
    for name in skipped:
        print(f"skipped  {name}")
    if total == 0:
        print("No test ran.")
    print(f"{passed} passed, {failed} failed, {len(skipped)} skipped")
    bad = failed or skipped or total == 0 or odoo_rc not in (0,) or extra_bad
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("odoo_rc", type=int)
    parser.add_argument("--coverage", type=float)
    parser.add_argument("--coverage-min", type=float, default=0.0)
    parser.add_argument("--upgrade", type=int, dest="upgrade_rc")
    parser.add_argument("--i18n", type=int, dest="i18n_rc")
    args = parser.parse_args()
    sys.exit(main(args.log, args.odoo_rc, args.coverage, args.coverage_min, args.upgrade_rc, args.i18n_rc))
