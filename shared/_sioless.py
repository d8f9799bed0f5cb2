"""Marks this ``shared`` package as sioless's library.

The dev host reads this file (it never imports it) to tell sioless's ``shared`` from an app's own package of
the same name, which it refuses with a message saying what to rename (docs/devhost.md#the-shared-package).
Keep this file when you copy the library into another app.
"""

LIBRARY = "sioless"
