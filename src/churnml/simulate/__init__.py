"""The seeded synthetic world: observable canonical tables plus ground truth."""

from churnml.simulate.world import World, simulate_world

__all__ = ["World", "simulate_world"]
