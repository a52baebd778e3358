"""Answers written for the tests in a candidate's words, not copied from a reference."""

STRONG_PROBLEM = """
We predict the probability of fraud for every card transaction at authorisation time, and map it
to approve, review or decline. Accuracy is useless here because fraud is around half a percent of
traffic, so approving everything looks 99.5% accurate. I'd use the area under the precision-recall
curve offline, plus precision and recall at the threshold we operate at. A missed fraud costs the
transaction amount, while a false decline costs customer friction, so the costs are asymmetric and
the threshold should come from expected cost. The decision has to fit within roughly 100ms at the
99th percentile. Labels come from chargebacks that arrive days or weeks later, which matters for
training and monitoring. At 50M transactions a day that's about 600 TPS on average and maybe 1,200
at peak, so we size replicas for that.
"""
OFF_TOPIC = ("I would first gather the team, then we discuss the roadmap and plan the sprints so "
             "that everyone knows what to do next week. Communication is the key to success.")
WEAK_DATA = "velocity features, device, merchant, time split"
