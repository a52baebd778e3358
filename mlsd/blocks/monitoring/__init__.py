"""Monitoring: drift statistics (PSI, KS) and their alarm thresholds."""
