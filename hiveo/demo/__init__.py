"""Dev tools inside the package: the demo world, the test factories, the PDF writer.

Production code never imports this package; `create_app()` only registers the
`flask demo load` command, whose module is imported when the command runs.

- `companies`: the demo companies, establishments and people, as plain data;
- `factories`: small functions that build worlds (tests, demo, benchmarks);
- `bulk`: thousands of companies, relations and accounts at once (demo, benchmarks);
- `load`: the demo world written to the portal's database;
- `pdfgen`: a tiny PDF writer for generated documents;
- `__main__`: `python -m hiveo.demo` (`make demo`).

`python -m hiveo.demo` also needs the provider simulator, the top-level
`simulator` package beside `hiveo/`, which is not in the wheel: the demo runs
from a source checkout only.
"""
