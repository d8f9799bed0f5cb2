"""Test-suite wide configuration. Component fixtures live in their own plugin modules."""

pytest_plugins = ["devhost.pytest_plugin", "tests.fixtures.storage"]
