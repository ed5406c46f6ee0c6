#!/usr/bin/env bash
# Lint and format check: ruff and pylint-odoo's mandatory checks, through
# pre-commit (the hooks use the tools installed in .venv, no network).
#   scripts/lint.sh            # check everything
#   .venv/bin/pre-commit install   # once, to run the hooks on every commit
source "$(dirname "$0")/common.sh"

check_odoo
ensure_venv
if ! "$VENV/bin/python" -c "import pylint_odoo" >/dev/null 2>&1 || [ ! -x "$VENV/bin/pre-commit" ]; then
    log "installing the linters into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO_DIR/requirements-dev.txt" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
fi
cd "$REPO_DIR"
"$VENV/bin/pre-commit" run --all-files --show-diff-on-failure
