"""Reference walkthroughs, one Markdown document per design (see mlsd/walkthrough.py)."""
