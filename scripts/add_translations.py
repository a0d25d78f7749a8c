"""Fill Swedish texts into the catalogue: python scripts/add_translations.py FILE.json

FILE.json maps English msgids to Swedish. Entries that are still missing are listed.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po

PO = "helpdesk/translations/sv/LC_MESSAGES/messages.po"

with open(sys.argv[1], encoding="utf-8") as f:
    swedish = json.load(f)
with open(PO, "rb") as f:
    catalog = read_po(f)
for message in catalog:
    if message.id in swedish:
        message.string = swedish[message.id]
        message.flags.discard("fuzzy")
    elif message.id and (not message.string or message.fuzzy):
        print("missing:", repr(message.id))
with open(PO, "wb") as f:
    write_po(f, catalog, sort_output=True, include_lineno=False)
