"""``python -m kefu``: the command line (kefu/cli/main.py)."""
import sys

from kefu.cli.main import main

sys.exit(main())
