#!/usr/bin/env bash
# Run the whole clinic_retention test suite (unit tests and browser tours)
# in a fresh throw-away database. Sets up what is missing first (virtualenv,
# PostgreSQL, Chromium). The last line is "N passed, N failed, N skipped";
# the exit code is non-zero on any failure, error or skipped test.
#
#   scripts/test.sh                          # everything (the addon alone, then its bridge addons)
#   scripts/test.sh /clinic_retention:TestClinicPatient   # a subset (Odoo --test-tags), bridges installed
source "$(dirname "$0")/common.sh"

DB="${CLINIC_TEST_DB:-clinic_retention_test}"
PORT="${CLINIC_TEST_HTTP_PORT:-8169}"
TAGS="${1:-/clinic_retention}"
LOG="$STATE_DIR/test.log"

check_odoo
ensure_venv
ensure_postgres
ensure_browser

if db_exists "$DB"; then
    log "dropping the previous test database $DB"
    PGPASSWORD="$DB_PASSWORD" dropdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" --force "$DB"
fi
rm -rf "$STATE_DIR/data/filestore/$DB"

BRIDGES="$(bridge_addons)"
run_odoo() {  # append one Odoo run to the log; keep the worst exit code
    local status
    set +e
    odoo_bin -d "$DB" "$@" --stop-after-init --http-port="$PORT" --max-cron-threads=0 --log-level=info \
        2>&1 | tee -a "$LOG"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || rc=$status
}
rc=0
: > "$LOG"
if [ -n "${1:-}" ]; then
    log "installing clinic_retention${BRIDGES:+,$BRIDGES} in $DB and running the tests $TAGS; full log: $LOG"
    run_odoo -i "clinic_retention${BRIDGES:+,$BRIDGES}" --test-tags "$TAGS"
else
    # clinic_retention alone first (it must not need its bridges), then the
    # bridge addons (clinic_retention_*/) installed on top and tested.
    log "installing clinic_retention in $DB and running its tests ($TAGS); full log: $LOG"
    run_odoo -i clinic_retention --test-tags "$TAGS"
    if [ -n "$BRIDGES" ]; then
        log "installing the bridge addons $BRIDGES in $DB and running their tests"
        run_odoo -i "$BRIDGES" --test-tags "/${BRIDGES//,/,/}"
    fi
fi
"$VENV/bin/python" "$REPO_DIR/scripts/test_summary.py" "$LOG" "$rc"
