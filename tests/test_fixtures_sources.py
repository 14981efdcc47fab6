"""The copied fixtures are byte-for-byte the public originals."""

from __future__ import annotations

import pytest

COPIES = {
    "hesa_samples/itt_record_C21053.xml": "hesa_samples/itt_record_C21053.xml",
    "hesa_samples/itt_record_C22053.xml": "hesa_samples/itt_record_C22053.xml",
    "hesa_samples/itt_record_C23053.xml": "hesa_samples/itt_record_C23053.xml",
    "hesa_samples/itt_record_one_line.xml": "hesa_samples/itt_record_one_line.xml",
    "hesa_samples/itt_record_zipped.zip": "hesa_samples/itt_record_zipped.zip",
    "openapi/v2026.1.yaml": "openapi/v2026.1.yaml",
    "register_csv/template_v2026_1.csv": "csv_template/public_csv_v2026_1__bulk_create_trainee.csv",
    "register_csv/template_v2025_0.csv": (
        "csv_template/public_csv_v2025_0__bulk_create_trainee@last_before_deletion_in_00d446f77.csv"
    ),
    "register_csv/five_trainees.csv": (
        "csv_template/spec_fixtures_files_bulk_update_trainee_uploads_v2026_1/five_trainees.csv"
    ),
}


@pytest.mark.parametrize("copy,original", sorted(COPIES.items()))
def test_fixture_is_an_exact_copy(fixtures, shared_reference, copy, original):
    assert (fixtures / copy).read_bytes() == (shared_reference / original).read_bytes()


def test_bundled_code_lists_are_exact_copies(shared_reference):
    from register_batch.reference import DATA_DIR

    for original in sorted((shared_reference / "reference_data").glob("*.yml")):
        assert (DATA_DIR / "v2026.1" / original.name).read_bytes() == original.read_bytes(), original.name
