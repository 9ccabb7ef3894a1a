"""``python -m socialtwin``: the ``socialtwin`` command."""

import sys

from socialtwin.main import main

sys.exit(main())
