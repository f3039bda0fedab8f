"""Helpers the test suites import (fixtures stay in conftest.py): live servers and
their HTTP client, PostgreSQL databases, token types."""
