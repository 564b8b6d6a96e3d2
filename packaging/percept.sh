#!/bin/sh
# The percept command of the Debian package: the node bundled with it (Debian 12's own is 18; percept
# needs >= 20) running the installed application. The agent sets the OpenCV addon's environment itself.
exec /usr/lib/percept/node/bin/node /usr/lib/percept/bin/percept.js "$@"
