"""The dependency audit's list of knowingly accepted vulnerabilities: dated, or a failure."""

from datetime import date

import pytest

from testing.live import ROOT, load_script

audit = load_script("scripts/audit_dependencies.py")
TODAY = date(2026, 12, 2)


def test_an_acceptance_holds_until_its_date() -> None:
    text = "# comment\n\nGHSA-abcd-efgh-ijkl until 2026-12-02: only in the admin's export\n"

    assert audit.accepted_ids(text, TODAY) == ["GHSA-abcd-efgh-ijkl"]


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("GHSA-abcd-efgh-ijkl until 2026-12-01: stale", "has expired"),
        ("GHSA-abcd-efgh-ijkl", "expected"),
        ("GHSA-abcd-efgh-ijkl until 2026-13-01: no such month", "expected"),
        ("PYSEC-2026-1 until 2027-01-01:", "expected"),  # no reason given
    ],
)
def test_a_stale_or_malformed_acceptance_fails(line: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        audit.accepted_ids(line, TODAY)


def test_the_accepted_list_in_the_repository_is_valid() -> None:
    audit.accepted_ids((ROOT / ".ci/accepted-vulnerabilities.txt").read_text(), date.today())
