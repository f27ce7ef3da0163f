"""Studies over many solves: sweeps, Pareto fronts, alternatives, the N-1 loop."""
