"""Background work on RQ: thin job entry points (``tasks``), enqueueing with job ids derived
from the work (``queue``), Redis clients and the embedded Redis (``connection``), and the
worker process (``worker``). The database is the source of truth; Redis only carries hints
of what to do next, so losing Redis loses nothing."""
