#!/usr/bin/env bash
# The whole check of clinic_retention, as CI runs it (.ci/run calls exactly
# this command). Sets up what is missing first (virtualenv and the pinned
# dev tools, PostgreSQL, Chromium), then:
#   1. lint: scripts/lint.sh (ruff, ruff format --check, pylint-odoo);
#   2. tests: install clinic_retention alone in a fresh throw-away database
#      and run every test and browser tour, then install the bridge addons
#      (clinic_retention_*/) on top and run theirs, all under `coverage run`
#      (.coveragerc); print the line coverage of our addons and fail below 85 %;
#   3. translations: scripts/i18n_check.sh (each addon's .pot regenerated
#      by Odoo's exporter on a demo-free install equals the committed one;
#      zh_CN, fa, ru: nothing untranslated or fuzzy, placeholders intact);
#   4. upgrade: scripts/upgrade_test.sh (the previous release, its data,
#      `-u` to this code, every record, count and KPI unchanged).
# The last line is "N passed, N failed, N skipped"; the exit code is non-zero
# on any lint finding, failure, error, skipped test, coverage below the
# threshold, translation problem or upgrade difference.
#
#   scripts/test.sh                          # everything (what CI runs)
#   scripts/test.sh /clinic_retention:TestClinicPatient   # a subset of tests
#       (Odoo --test-tags, bridges installed too; a subset skips lint, the
#       coverage threshold, the translation check and the upgrade test)
source "$(dirname "$0")/common.sh"

DB="${CLINIC_TEST_DB:-clinic_retention_test}"
PORT="${CLINIC_TEST_HTTP_PORT:-8169}"
TAGS="${1:-/clinic_retention}"
FULL=$([ -z "${1:-}" ] && echo 1 || echo 0)
LOG="$STATE_DIR/test.log"
COVERAGE_MIN=85

check_odoo
ensure_venv
ensure_dev_tools
ensure_postgres
ensure_browser
ensure_rtlcss
cd "$REPO_DIR"

if [ "$FULL" = 1 ]; then
    if ! "$REPO_DIR/scripts/lint.sh"; then
        echo "lint failed: fix the findings above (scripts/lint.sh)"
        echo "0 passed, 1 failed, 0 skipped"
        exit 1
    fi
    # Its own demo-free database (about 1.5 minutes); counted in the summary.
    set +e
    "$REPO_DIR/scripts/i18n_check.sh" 2>&1 | tee "$STATE_DIR/i18n.log"
    i18n_rc=${PIPESTATUS[0]}
    set -e
fi

if db_exists "$DB"; then
    log "dropping the previous test database $DB"
    PGPASSWORD="$DB_PASSWORD" dropdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" --force "$DB"
fi
rm -rf "$STATE_DIR/data/filestore/$DB" "$STATE_DIR"/.coverage*

BRIDGES="$(bridge_addons)"
run_odoo() {  # append one Odoo run to the log; keep the worst exit code
    local status
    set +e
    ODOO_RUNNER="$VENV/bin/coverage run --rcfile=$REPO_DIR/.coveragerc --append" \
        odoo_bin -d "$DB" "$@" --stop-after-init --http-port="$PORT" --max-cron-threads=0 --log-level=info \
        2>&1 | tee -a "$LOG"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || rc=$status
}
rc=0
: > "$LOG"
if [ "$FULL" = 0 ]; then
    log "installing clinic_retention${BRIDGES:+,$BRIDGES} in $DB and running the tests $TAGS; full log: $LOG"
    run_odoo -i "clinic_retention${BRIDGES:+,$BRIDGES}" --test-tags "$TAGS"
else
    # clinic_retention alone first (it must not need its bridges), then the
    # bridge addons (clinic_retention_*/) installed on top and tested.
    log "installing clinic_retention in $DB and running its tests under coverage; full log: $LOG"
    run_odoo -i clinic_retention --test-tags "$TAGS"
    if [ -n "$BRIDGES" ]; then
        log "installing the bridge addons $BRIDGES in $DB and running their tests"
        run_odoo -i "$BRIDGES" --test-tags "/${BRIDGES//,/,/}"
    fi
fi

extra=()
if [ "$FULL" = 1 ]; then
    coverage="$("$VENV/bin/coverage" report --rcfile=.coveragerc --format=total --fail-under=0 2>/dev/null || echo 0)"
    "$VENV/bin/coverage" report --rcfile=.coveragerc --skip-covered --sort=cover 2>/dev/null | tail -n 25 \
        > "$STATE_DIR/coverage.txt" || true
    extra+=(--coverage "$coverage" --coverage-min "$COVERAGE_MIN")
    set +e
    "$REPO_DIR/scripts/upgrade_test.sh" 2>&1 | tee "$STATE_DIR/upgrade.log"
    upgrade_rc=${PIPESTATUS[0]}
    set -e
    extra+=(--upgrade "$upgrade_rc" --i18n "$i18n_rc")
fi
"$VENV/bin/python" "$REPO_DIR/scripts/test_summary.py" "$LOG" "$rc" "${extra[@]}"
