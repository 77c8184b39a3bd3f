"""Composition root: `python -m fedsocial.cli`."""

import sys

from fedsocial.cli import main

sys.exit(main())
