"""The plan report: one self-contained HTML page that shows the platform the offline plan
declares (architecture diagram, routing map, per-stack figures, the DR timeline) and,
given an earlier plan, what a change does to it. `infra.report.build.write_report` is the
entry point; `python -m infra.cli report --out DIR` calls it.
"""
