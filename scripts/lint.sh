#!/usr/bin/env bash
# Lint and format check, with the pinned tools of requirements-dev.txt:
#   ruff check, ruff format --check (config: pyproject.toml) on the whole repo,
#   pylint with pylint-odoo (config: .pylintrc) on the addon and its bridges.
# Exit code non-zero on any finding. scripts/test.sh (so .ci/run) runs it first.
#   scripts/lint.sh                   # check everything
#   .venv/bin/pre-commit install      # optional: the same checks on every commit
source "$(dirname "$0")/common.sh"

check_odoo
ensure_venv
ensure_dev_tools
cd "$REPO_DIR"
status=0
log "ruff check"
"$VENV/bin/ruff" check --no-fix . || status=1
log "ruff format --check"
"$VENV/bin/ruff" format --check . || status=1
log "pylint-odoo (.pylintrc)"
addons=(clinic_retention clinic_retention_*/)
"$VENV/bin/pylint" --rcfile=.pylintrc "${addons[@]%/}" || status=1
if [ "$status" = 0 ]; then
    log "lint: clean"
else
    log "lint: FAILED (see above)"
fi
exit "$status"
