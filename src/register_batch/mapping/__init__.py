"""Mapping: raw input records to Register API v2026.1 bodies, driven by the data files in `mappings/`.

Two kinds of file, both YAML: field maps (which source column or tag feeds each API field, per input
format) and code translations (legacy code -> accepted code). The user's `--mapping` files are layered on
top of the bundled ones, later files winning key by key.
"""

from register_batch.mapping.apply import Mapper
from register_batch.mapping.loader import (
    CodeTranslation,
    FieldMap,
    MappingConfig,
    bundled_mapping_dir,
    load_mapping,
)

__all__ = [
    "CodeTranslation",
    "FieldMap",
    "Mapper",
    "MappingConfig",
    "bundled_mapping_dir",
    "load_mapping",
]
