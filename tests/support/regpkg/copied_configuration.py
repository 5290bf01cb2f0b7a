"""An outdated copy of copied_config_class.CopiedConfig (see there)."""

from .good import NewModelConfig


class CopiedConfig(NewModelConfig):
    model_type = "copied-model"
