"""What the fixture generators do when a reference dependency is missing.

The references are PyTorch (python3-torch), Pillow (python3-pil) and NumPy
(python3-numpy), imported by Debian's /usr/bin/python3 when the build makes the fixtures
(gen_core_fixtures.py, ../plugin/gen_plugin_fixtures.py, ../pipelines/make_checkpoint.py).
Without them the tests that compare with the references skip (exit 77), about 90 of
them; outside CI that is a convenience. In CI (CI=true, as CI services set it) it would
let a machine without the references report success, so there a missing reference is an
error: the generator exits 1 and the build fails, naming the packages. The tests run
with the same interpreter, so once the build has passed they find the references too.
"""

import os
import sys

PACKAGES = "python3-torch python3-pil python3-numpy"


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(script, error):
    """Call on the ImportError of a reference: exits 1 in CI, returns otherwise."""
    if in_ci():
        sys.stderr.write(
            "%s: a reference dependency is missing: %s\n"
            "  CI=%s: in CI this is an error, not a skip (the tests that compare with the\n"
            "  references would be skipped and CI would pass without them).\n"
            "  Install %s (.ci/install-deps does).\n"
            % (script, error, os.environ.get("CI"), PACKAGES))
        sys.exit(1)
