"""Contacts from behaviour: how much of a routine day's transmission each behaviour carries.

A behaviour declares ``contacts``: the share of the transmission-relevant contacts of a routine
day that come with doing it (:class:`simulator.behaviours.Behaviour`). The rest (``1 - sum``) is
held fixed: contacts the behaviours do not describe (for the Google categories, schools and
everything outside the six). The tick's multiplier is

    contacts_t = fixed + sum_k share_k * behaviour_k,t / behaviour_k,routine

so 1 in the routine, and a behaviour done half as often as in the routine removes half its
share. The Google preset's shares follow the rough split of daily contacts by setting in contact
surveys (POLYMOD, Mossong et al. 2008: about a quarter at home, a third at work and school
together, the rest in leisure, shops, transport and elsewhere); they are priors a scenario can
change per behaviour, and the fit does not estimate them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ContactShares:
    """The behaviours' shares of routine contacts.

    Attributes:
        shares: each behaviour's share, shape (B,), summing to at most 1.
    """

    shares: np.ndarray

    @classmethod
    def of(cls, behaviours: Sequence) -> ContactShares:
        """The shares the scenario's behaviours declare (``contacts``)."""
        return cls(np.array([float(b.contacts) for b in behaviours], dtype=float))

    @property
    def fixed(self) -> float:
        """The share of routine contacts no behaviour carries."""
        return max(0.0, 1.0 - float(self.shares.sum()))

    @property
    def carried(self) -> bool:
        """Whether any behaviour carries contacts."""
        return bool(self.shares.sum() > 0)

    def multiplier(self, behaviour: np.ndarray, routine: np.ndarray) -> np.ndarray:
        """The contact multiplier of each row of mean behaviour probabilities.

        Args:
            behaviour: mean probabilities, shape (B,) or (T, B).
            routine: the routine's mean probabilities, shape (B,).
        """
        ratio = np.asarray(behaviour, dtype=float) / np.maximum(routine, 1e-9)
        return self.fixed + ratio @ self.shares
