#!/usr/bin/env python3
"""Assemble clinic_retention/README.rst (and each bridge addon's,
clinic_retention_*/README.rst) from the addon's readme/*.md (the OCA
layout: DESCRIPTION, CONFIGURE, USAGE, HISTORY, CONTRIBUTORS; the
fragments an addon lacks are left out). Run after editing them:

    python3 scripts/gen_readme.py
"""

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parent.parent
PARTS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("HISTORY.md", "Changelog"),
]


def to_rst(text, level="-"):
    # Our readme Markdown only uses lists, **bold**, *italics*, `code` and
    # "## " sub-headings: the same in reStructuredText except inline code and
    # headings.
    text = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)
    return re.sub(r"^## (.+)$", lambda m: f"{m.group(1)}\n{level * len(m.group(1))}", text, flags=re.M)


def main():
    for readme in sorted(REPO.glob("clinic_retention*/readme")):
        build(readme.parent)


def build(addon):
    title = ast.literal_eval((addon / "__manifest__.py").read_text())["name"]
    out = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        ".. This file is assembled from readme/DESCRIPTION.md, CONFIGURE.md, USAGE.md,",
        "   HISTORY.md and CONTRIBUTORS.md by scripts/gen_readme.py: edit those, then run it.",
        "",
        "|badge1| |badge2|",
        "",
        ".. |badge1| image:: https://img.shields.io/badge/maturity-Beta-yellow.png",
        "    :alt: Beta",
        ".. |badge2| image:: https://img.shields.io/badge/licence-LGPL--3-blue.png",
        "    :alt: License: LGPL-3",
        "",
    ]
    for name, heading in PARTS:
        fragment = addon / "readme" / name
        if not fragment.exists():
            continue
        if heading:
            out += [heading, "=" * len(heading), ""]
        out += [to_rst(fragment.read_text()).rstrip(), ""]
    out += ["Credits", "=======", "", "Authors", "-------", "", "* clinic_retention contributors", ""]
    contributors = addon / "readme" / "CONTRIBUTORS.md"
    if contributors.exists():
        out += ["Contributors", "------------", "", to_rst(contributors.read_text()).rstrip(), ""]
    (addon / "README.rst").write_text("\n".join(out))


if __name__ == "__main__":
    main()
