"""Practice mode: a timed mock interview scored against the walkthroughs' rubrics,
recorded in the results store, and summarised over time by `mlsd progress`."""
