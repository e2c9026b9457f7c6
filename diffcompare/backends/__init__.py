"""One module per array backend; each builds a :class:`~diffcompare.namespace.Namespace`."""
