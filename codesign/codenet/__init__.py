"""CoDeNet family (arXiv 2006.08357): integer rules, golden executor, export, metrics, RTL, perf."""
