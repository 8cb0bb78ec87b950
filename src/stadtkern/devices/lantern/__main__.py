"""`python -m stadtkern.devices.lantern`: run (or provision) one reference lantern."""

from stadtkern.devices.lantern.cli import main

raise SystemExit(main())
