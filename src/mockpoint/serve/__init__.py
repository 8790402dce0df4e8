"""``mockpoint serve``: charge points, scenario runs and load runs driven over HTTP, with a
live event stream (docs/serve.md)."""
