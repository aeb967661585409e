"""Segment rules, pure: the language (rules), the Python evaluator (evaluate), the SQL
compiler (compile), dependency analysis (deps), sentences (sentence) and ids (slug)."""
