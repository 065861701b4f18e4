"""The end of the workflow: a stage's PASS/WARN/FAIL (``status``), the verdict and recommendation
(``verdict``), what a fitted model says about groups and population (``readout``) and the report
(``report``)."""
