#!/usr/bin/env bash
# Run the whole clinic_retention test suite (unit tests and browser tours)
# in a fresh throw-away database. Sets up what is missing first (virtualenv,
# PostgreSQL, Chromium). The last line is "N passed, N failed, N skipped";
# the exit code is non-zero on any failure, error or skipped test.
#
#   scripts/test.sh                          # everything
#   scripts/test.sh /clinic_retention:TestClinicPatient   # a subset (Odoo --test-tags)
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

log "installing clinic_retention in $DB and running its tests ($TAGS); full log: $LOG"
set +e
odoo_bin -d "$DB" -i clinic_retention --test-tags "$TAGS" --stop-after-init \
    --http-port="$PORT" --max-cron-threads=0 --log-level=info 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
"$VENV/bin/python" "$REPO_DIR/scripts/test_summary.py" "$LOG" "$rc"
