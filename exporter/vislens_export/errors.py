"""The one exception type the exporter raises for problems the user can fix."""


class ExportError(Exception):
    """A checkpoint, option or bundle the exporter cannot handle; the message names file, field and value."""
