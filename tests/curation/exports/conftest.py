import pytest


@pytest.fixture(autouse=True)
def _release_folder(var_dir):
    """Every test here writes releases into its own folder."""
    return var_dir
