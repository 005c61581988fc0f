"""`python -m bot`: start the whole Relais stack (see bot/launcher.py)."""

import sys

from bot.launcher import main

sys.exit(main())
