"""Ticket workflows as data, run by one small engine."""
