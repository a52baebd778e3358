"""Reference walkthroughs, one Markdown document per design (read by mlsd/walkthrough_reader.py)."""
