"""Settings shared by the delta tests (imported by name; conftest.py is ambiguous in tests/)."""

QUICK = {
    "data": {"paths_train": 1, "paths_test": 1},
    "train": {"float_epochs": 4, "qat_epochs": 2, "tune_epochs": 1},
}
