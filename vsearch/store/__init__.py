"""The store: SQLite, the truth (schema, migrations, typed access), and the ANN index, its cache."""
