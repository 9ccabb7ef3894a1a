"""The epidemic in the loop: cases simulated from the agents' contacts (``context.epidemic``)."""
