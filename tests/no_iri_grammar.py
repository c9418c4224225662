"""A pytest plugin that saves 1.4 s at the start of every pytest process (``-p no_iri_grammar``).

nbval imports nbformat, nbformat imports jsonschema, and jsonschema imports ``rfc3987_syntax`` when it is
installed (jupyterlab brings it in) to check the "iri" string format. At import, rfc3987_syntax builds an
Earley parser of RFC 3987 with lark: 1.4 s of CPU, paid by each pytest process, so by each notebook test
run in a subprocess and by each of a student's ``pytest`` runs. Nothing here asks for that check: nbformat
validates notebooks without a format checker, and no notebook schema uses "iri".

A ``None`` entry in ``sys.modules`` makes ``import rfc3987_syntax`` raise ImportError, which jsonschema
expects from an optional checker (it then leaves "iri" unchecked). ``-p`` in ``addopts`` loads this module
before pytest loads its plugins (nbval among them), so before anything imports jsonschema.
Not a runtime module of the book: nothing else imports it.
"""

import sys

SKIPPED = "rfc3987_syntax"

if SKIPPED not in sys.modules:  # already imported (e.g. by an embedding program): leave it
    sys.modules[SKIPPED] = None
