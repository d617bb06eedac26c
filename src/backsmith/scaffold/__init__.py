"""New projects (`backsmith init`): a contract to edit, its DBML, a hooks module, the
settings to copy, `.gitignore` and a README, from a template or from the team's own spec.

The templates are package data beside this module: `blank/` (one resource, commented),
`bookshop/` (the repository's `examples/bookshop`, copied so an installed backsmith has
it; a test keeps the two equal) and `project/` (the README and `.gitignore`).
"""

from backsmith.scaffold.write import Project, init_project

__all__ = ["Project", "init_project"]
