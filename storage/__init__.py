"""Baton's storage: Tortoise ORM models, migrations and async repository functions.

Only this package imports `tortoise`; everything else passes domain values in and gets them out.
"""
