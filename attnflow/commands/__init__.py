"""Sub-commands of the ``attnflow`` CLI (one module per command)."""
