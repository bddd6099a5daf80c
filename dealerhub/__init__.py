"""dealerhub: an OEM's after-sales platform for its dealer network."""

import os

# Piccolo finds its engine and apps through this module; set before any table is imported.
os.environ.setdefault("PICCOLO_CONF", "dealerhub.piccolo_conf")
