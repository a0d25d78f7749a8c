"""Helpdesk: a tiered IT helpdesk with exact SLA clocks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web application (imported lazily so the pure core loads without Flask)."""
    from helpdesk.app import create_app as build

    return build(config)
