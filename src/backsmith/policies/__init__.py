"""Traffic policies, each a step compiled into the plans of the operations that declare it:
rate limits, over counters shared by every worker and instance."""
