#!/usr/bin/env bash
# Set everything up and serve Odoo 18 with clinic_retention and its demo
# data at http://localhost:8069 (login admin / password admin).
#
#   scripts/run.sh                 # database "clinic" (created if missing)
#   CLINIC_DB=mydb scripts/run.sh  # another database
#   CLINIC_HTTP_PORT=8070 scripts/run.sh
# Extra arguments are passed to odoo-bin.
source "$(dirname "$0")/common.sh"

DB="${CLINIC_DB:-clinic}"
PORT="${CLINIC_HTTP_PORT:-8069}"

check_odoo
ensure_venv
ensure_postgres
ensure_rtlcss

installed=""
if db_exists "$DB"; then
    installed="$(db_psql -d "$DB" -tAc \
        "SELECT 1 FROM ir_module_module WHERE name = 'clinic_retention' AND state = 'installed'" \
        2>/dev/null || true)"
fi
BRIDGES="$(bridge_addons)"  # e.g. free screening events: installed too, so the demo shows everything
if [ "$installed" = 1 ]; then
    log "database $DB exists: updating clinic_retention${BRIDGES:+ and $BRIDGES} to this checkout"
    odoo_bin -d "$DB" -u "clinic_retention${BRIDGES:+,$BRIDGES}" ${BRIDGES:+-i "$BRIDGES"} \
        --stop-after-init --http-port="$PORT"
else
    log "creating database $DB with clinic_retention${BRIDGES:+, $BRIDGES} and their demo data (a few minutes)"
    odoo_bin -d "$DB" -i "clinic_retention${BRIDGES:+,$BRIDGES}" --stop-after-init --http-port="$PORT" \
        --load-language=en_US,zh_CN,fa_IR,ru_RU
fi
# The demo users ship without a password (a production database created with
# demo data must not have guessable accounts): give them password = login in
# this local demo database only.
log "demo users of $DB: password = login"
printf '%s\n' \
    "users = env['res.users'].search([('login', 'in', ['olga', 'reza', 'zhang', 'dr.li', 'dr.hosseini', 'dr.smirnov', 'dr.collins'])])" \
    "for user in users: user.password = user.login" \
    "env.cr.commit()" \
    | "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell --addons-path="$ODOO_SRC/addons,$REPO_DIR" \
        --data-dir="$STATE_DIR/data" --db_host="$DB_HOST" --db_port="$DB_PORT" \
        --db_user="$DB_USER" --db_password="$DB_PASSWORD" -d "$DB" --no-http >/dev/null
log "serving http://localhost:$PORT  (database $DB, login admin / password admin)"
odoo_bin -d "$DB" --db-filter="^${DB}\$" --http-port="$PORT" "$@"
