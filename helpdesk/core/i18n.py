"""Marking text for translation in code that must not import Flask.

``N_`` marks a message for extraction (``pybabel extract -k N_``) and returns it
unchanged; the web layer translates it with ``gettext`` when it shows it.
"""


def N_(message: str) -> str:
    return message
