"""The pipeline tests' fixtures (tests/helpers/pipeline_rig.py)."""
from tests.helpers.pipeline_rig import live_rasa

__all__ = ["live_rasa"]
