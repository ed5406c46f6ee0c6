"""Check (or update) the translations of our addons against the code.

Usage: i18n_check.py EXPORT_TGZ REPO_DIR MODULE... [--update] [--langs zh_CN,fa,ru]

EXPORT_TGZ is Odoo's own export of MODULE... (``odoo-bin --i18n-export=x.tgz
--modules=...`` on a database where they are installed without demo data):
one ``<module>/i18n/<module>.pot`` per module. scripts/i18n_check.sh makes it.

For each module, the regenerated .pot is compared with the committed one
(the POT-Creation-Date / PO-Revision-Date headers aside): a difference is a
"stale .pot". Each committed ``<lang>.po`` must parse (``msgfmt -c``) and,
merged with the regenerated .pot in memory (exact msgid + msgctxt matches,
as ``msgmerge --no-fuzzy-matching``), have no untranslated or fuzzy entry and
keep every placeholder of the msgid: ``%s``, ``%(name)s``, ``%(x).1f``,
``{{ ... }}``, ``{name}``, and the HTML/QWeb tags with their attributes
(``t-out``, ``t-esc``, ``class``, ...) except the text of the translated
ones (``title``, ``alt``, ``placeholder``, ``aria-label``, ...).

Prints one summary line per module and language, the offending msgids (the
first 30) and the command that fixes a stale .pot; exits 1 on any problem.
With ``--update``: writes the regenerated .pot and merges it into each .po
(``msgmerge --no-fuzzy-matching``, obsolete entries dropped), new entries
left empty for the translators.
"""

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

import polib

LANGS = ("zh_CN", "fa", "ru")
SHOWN = 30
VOLATILE_HEADERS = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', re.MULTILINE)

PRINTF = re.compile(r"%(?:\([A-Za-z_]\w*\))?(?:\.\d+)?[sdfr]|%%")
JINJA = re.compile(r"\{\{.*?\}\}", re.DOTALL)
STRING_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
BRACES = re.compile(r"(?<!\{)\{[A-Za-z_][\w.]*\}(?!\})")
TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'))?)*)\s*(/?)>")
ATTR = re.compile(r"([^\s=/>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'))?")
# Attributes whose text is translated (odoo.tools.translate.TRANSLATED_ATTRS):
# only their presence must match.
TRANSLATED_ATTRS = {
    "string",
    "add-label",
    "help",
    "sum",
    "avg",
    "confirm",
    "placeholder",
    "alt",
    "title",
    "aria-label",
    "aria-keyshortcuts",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
    "value_label",
    "data-tooltip",
    "label",
    "value",
}


def placeholders(text):
    """The multiset of placeholders of ``text`` that a translation must keep."""
    found = Counter()
    for match in PRINTF.finditer(text):
        found["printf " + match.group(0)] += 1
    for match in JINJA.finditer(text):
        # the code of an expression must stay; the text of its string literals
        # is for the patient and is translated (' Your gift code: ')
        code = STRING_LITERAL.sub("''", match.group(0))
        found["expression " + re.sub(r"\s+", "", code)] += 1
    for match in BRACES.finditer(text):
        found["format " + match.group(0)] += 1
    for match in TAG.finditer(text):
        closing, name, attrs, self_closing = match.groups()
        parts = []
        for attr_match in ATTR.finditer(attrs):
            attr, value = attr_match.groups()
            key = attr.removeprefix("t-attf-").removeprefix("t-att-")
            if key in TRANSLATED_ATTRS and not attr.startswith("t-att-"):
                parts.append(attr)
            else:
                parts.append(f"{attr}={(value or '')[1:-1]}")
        found[f"tag <{closing}{name}{''.join(' ' + p for p in sorted(parts))}{self_closing}>"] += 1
    return found


def normalized_pot(text):
    return VOLATILE_HEADERS.sub("", text)


def entry_key(entry):
    return (entry.msgctxt or "", entry.msgid)


def short(msgid):
    text = msgid.replace("\n", "\\n")
    return text if len(text) <= 100 else text[:97] + "..."


def check_pot(module, fresh_pot, committed_path):
    """Stale .pot problems (empty when the committed .pot is up to date)."""
    if not committed_path.exists():
        return [f"{module}: {committed_path} is missing"]
    committed = committed_path.read_text(encoding="utf-8")
    if normalized_pot(committed) == normalized_pot(fresh_pot):
        return []
    old = {entry_key(e) for e in polib.pofile(committed)}
    new = {entry_key(e) for e in polib.pofile(fresh_pot)}
    problems = [f"{module}: new msgid not in the committed .pot: {short(k[1])!r}" for k in sorted(new - old)]
    problems += [f"{module}: msgid no longer in the code: {short(k[1])!r}" for k in sorted(old - new)]
    if not problems:
        problems.append(f"{module}: the .pot differs from the code (references, comments or order)")
    return problems


def msgfmt_errors(path):
    result = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True, check=False)
    return [] if result.returncode == 0 else [line for line in result.stderr.splitlines() if line.strip()]


def check_po(module, lang, pot, po_path):
    """(summary line, problems) of one language of one module."""
    if not po_path.exists():
        return f"{module} {lang}: missing {po_path}", [f"{module} {lang}: {po_path} is missing"]
    errors = msgfmt_errors(po_path)
    if errors:
        return f"{module} {lang}: does not parse", [f"{module} {lang}: {line}" for line in errors]
    translations = {entry_key(e): e for e in polib.pofile(str(po_path)) if not e.obsolete}
    counts = Counter()
    problems = []
    for ref in pot:
        entry = translations.get(entry_key(ref))
        if entry is None or not (entry.msgstr or any(entry.msgstr_plural.values())):
            counts["untranslated"] += 1
            problems.append(f"{module} {lang}: untranslated: {short(ref.msgid)!r}")
            continue
        if "fuzzy" in entry.flags:
            counts["fuzzy"] += 1
            problems.append(f"{module} {lang}: fuzzy: {short(ref.msgid)!r}")
            continue
        msgstrs = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        wanted = placeholders(ref.msgid)
        bad = [msgstr for msgstr in msgstrs if placeholders(msgstr) != wanted]
        if bad:
            counts["mismatch"] += 1
            got = placeholders(bad[0])
            missing = sorted((wanted - got).elements())
            extra = sorted((got - wanted).elements())
            problems.append(
                f"{module} {lang}: placeholders differ in {short(ref.msgid)!r}"
                + (f" (missing {missing})" if missing else "")
                + (f" (unexpected {extra})" if extra else "")
            )
            continue
        counts["translated"] += 1
    summary = (
        f"{module} {lang}: {counts['translated']} translated, {counts['untranslated']} untranslated, "
        f"{counts['fuzzy']} fuzzy, {counts['mismatch']} placeholder mismatches"
    )
    return summary, problems


def update(module, fresh_pot, i18n_dir, langs):
    i18n_dir.mkdir(exist_ok=True)
    pot_path = i18n_dir / f"{module}.pot"
    if pot_path.exists() and normalized_pot(pot_path.read_text(encoding="utf-8")) == normalized_pot(fresh_pot):
        print(f"{module}: i18n/{module}.pot is up to date, nothing to merge")
        return
    pot_path.write_text(fresh_pot, encoding="utf-8")
    for lang in langs:
        po_path = i18n_dir / f"{lang}.po"
        if not po_path.exists():
            po = polib.pofile(fresh_pot)
            po.metadata["Language"] = lang
            po.save(str(po_path))
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".pot", encoding="utf-8") as tmp:
            tmp.write(fresh_pot)
            tmp.flush()
            merged = subprocess.run(
                ["msgmerge", "--quiet", "--no-fuzzy-matching", "--output-file=-", str(po_path), tmp.name],
                capture_output=True,
                check=True,
            ).stdout
        cleaned = subprocess.run(
            ["msgattrib", "--no-obsolete", "--output-file=-", "-"], input=merged, capture_output=True, check=True
        ).stdout
        po_path.write_bytes(cleaned)
    print(f"{module}: wrote i18n/{module}.pot and merged it into {', '.join(f'{lang}.po' for lang in langs)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="Odoo's .tgz export of the modules")
    parser.add_argument("repo", type=Path)
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--update", action="store_true")
    parser.add_argument("--langs", default=",".join(LANGS))
    args = parser.parse_args(argv)
    langs = args.langs.split(",")

    fresh = {}
    with tarfile.open(args.export, "r:gz") as tar:
        for member in tar.getmembers():
            module = member.name.split("/")[0]
            if member.isfile() and member.name.endswith(".pot"):
                fresh[module] = tar.extractfile(member).read().decode("utf-8")

    problems, summaries = [], []
    for module in args.modules:
        i18n_dir = args.repo / module / "i18n"
        if module not in fresh:
            problems.append(f"{module}: Odoo exported no term (is it installed?)")
            continue
        if args.update:
            update(module, fresh[module], i18n_dir, langs)
        problems += check_pot(module, fresh[module], i18n_dir / f"{module}.pot")
        pot = [e for e in polib.pofile(fresh[module]) if e.msgid]
        for lang in langs:
            summary, lang_problems = check_po(module, lang, pot, i18n_dir / f"{lang}.po")
            summaries.append(summary)
            problems += lang_problems

    for line in summaries:
        print(line)
    if not problems:
        print("i18n: every .pot is up to date, every msgid translated in " + ", ".join(langs))
        return 0
    print(f"i18n: {len(problems)} problem(s); the first {min(SHOWN, len(problems))}:")
    for line in problems[:SHOWN]:
        print("  " + line)
    if any("committed .pot" in p or "no longer in the code" in p or "differs from the code" in p for p in problems):
        print("The .pot is stale: run `scripts/i18n_check.sh --update` (regenerates it and merges it into")
        print("the .po files, new entries empty), then translate the new entries and commit.")
    else:
        print("Translate the entries above in the .po files (no fuzzy flag, same placeholders), then run again.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
