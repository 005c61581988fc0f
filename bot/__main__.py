"""`python -m bot`: start the whole Relais stack (bot/launcher.py);
`python -m bot reload-model [MODEL]`: load a new model into the running replicas (bot/reload.py)."""

import sys

if sys.argv[1:2] == ["reload-model"]:
    from bot.reload import main as reload_main

    sys.exit(reload_main(sys.argv[2:]))

from bot.launcher import main  # noqa: E402

sys.exit(main())
