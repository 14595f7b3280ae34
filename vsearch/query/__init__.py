"""Queries: text -> vectors -> hits -> moments (search), and the span logic (moments)."""
