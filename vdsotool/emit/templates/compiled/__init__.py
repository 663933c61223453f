"""jinja2's compiled form of the templates in ..: written by ``make templates``, never edited."""
