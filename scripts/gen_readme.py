#!/usr/bin/env python3
"""Assemble clinic_retention/README.rst (and each bridge addon's,
clinic_retention_*/README.rst) from the addon's readme/*.md (the OCA
layout: DESCRIPTION, CONFIGURE, USAGE). Run after editing them:

    python3 scripts/gen_readme.py
"""

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parent.parent
PARTS = [("DESCRIPTION.md", None), ("CONFIGURE.md", "Configuration"), ("USAGE.md", "Usage")]


def to_rst(text):
    # Our readme Markdown only uses lists, **bold**, *italics* and `code`:
    # the same in reStructuredText except inline code.
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


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
        ".. This file is assembled from readme/DESCRIPTION.md, readme/CONFIGURE.md and",
        "   readme/USAGE.md by scripts/gen_readme.py: edit those, then run it.",
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
        if heading:
            out += [heading, "=" * len(heading), ""]
        out += [to_rst((addon / "readme" / name).read_text()).rstrip(), ""]
    out += ["Credits", "=======", "", "Authors", "-------", "", "* clinic_retention contributors", ""]
    (addon / "README.rst").write_text("\n".join(out))


if __name__ == "__main__":
    main()
