"""The public test kit: the pytest plugin (``pytest_plugin``), for users' tests and ours."""
