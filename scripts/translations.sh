#!/usr/bin/env bash
# Keep the Swedish and English catalogues in step with the code.
#   scripts/translations.sh extract   -> regenerate messages.pot from helpdesk/ and
#                                        templates/, then merge it into every .po
#   scripts/translations.sh compile   -> compile every .po to the .mo the app loads
# After `extract`, translate the new or fuzzy entries in
# helpdesk/translations/sv/LC_MESSAGES/messages.po, then run `compile`.
# tests/unit/test_translations.py fails while any message lacks a Swedish text.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
pybabel=.venv/bin/pybabel
[ -x "$pybabel" ] || { echo "$pybabel is missing: run make test (or pip install -e '.[test]')" >&2; exit 1; }

translations=helpdesk/translations
pot=$translations/messages.pot
# Keep in step with babel.cfg and KEYWORDS in tests/unit/test_translations.py.
keywords=(-k N_ -k _l -k lazy_gettext)

case "${1:-}" in
  extract)
    # Sorted by msgid, file names without line numbers: moving code does not
    # touch the catalogues, so their diffs show only real text changes.
    # --ignore-dirs: pybabel's default also skips directories whose names begin with _,
    # and the shared macros live in templates/_macros/.
    "$pybabel" --quiet extract -F babel.cfg "${keywords[@]}" --ignore-dirs '.*' \
      --sort-output --add-location=file --add-comments=TRANSLATORS: \
      --project=helpdesk --copyright-holder="helpdesk contributors" \
      -o "$pot" .
    "$pybabel" --quiet update -i "$pot" -d "$translations" --ignore-obsolete
    count=$(grep -c '^msgid ' "$pot")
    echo "$((count - 1)) messages in $pot"
    # English needs no msgstr: an empty one shows the English source text.
    for po in "$translations"/*/LC_MESSAGES/messages.po; do
      [ "$po" = "$translations/en/LC_MESSAGES/messages.po" ] && continue
      todo=$(.venv/bin/python - "$po" <<'PY'
import sys
from babel.messages.pofile import read_po
with open(sys.argv[1], "rb") as f:
    catalog = read_po(f)
print(sum(1 for m in catalog if m.id and (not m.string or m.fuzzy)))
PY
)
      echo "$po: $todo untranslated or fuzzy"
    done
    ;;
  compile)
    "$pybabel" compile --statistics -d "$translations"
    ;;
  *)
    echo "usage: translations.sh extract|compile" >&2; exit 2 ;;
esac
