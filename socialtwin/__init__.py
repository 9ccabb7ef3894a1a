"""socialtwin's command layer: the ``socialtwin`` command, composing simulator and calibration.

One module per command (``run``, ``sweep``, ``evaluate``, ``calibrate``, ``probe``, ``plot``,
``data``); the flags they share are declared once in :mod:`socialtwin.flags`. This package alone
composes the simulator, the calibration layer and their reports; the library API is
:mod:`simulator` and :mod:`calibration`, and nothing there imports this package.
"""
